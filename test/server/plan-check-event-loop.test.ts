// The server checks a pipeline file off its event loop: while the densest file it accepts is
// parsed and linted (a second or more), the app keeps answering /healthz and the loop's
// longest stall stays a small fraction of that lint's time, measured in the same test on the
// same machine. The execution still ends with the diagnostics in-process linting gives.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDiagnostic } from '../../engine/diagnostics.ts';
import { lintPipelineSource, MAX_PIPELINE_BYTES } from '../../engine/pipeline.ts';
import { buildApp } from '../../server/app.ts';
import { awaitPlanCheck } from '../../server/routes/hooks/plan-check.ts';
import { HANG_MS } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { openFakeManagers, warningsLogger, writePipeline } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();

/**
 * The longest stall allowed, as a share of the in-process lint: a blocking check stalls the
 * loop for all of it (one task), a worker for none of it. Half leaves room for a loaded
 * machine, where another process can keep this one off the CPU for a fifth of a second or
 * more (a third was seen to fail so, at 219 ms of 627).
 */
const STALL_SHARE = 1 / 2;

// A stray `]` per byte: the worst class of error flood, cut short by the token budget.
const DENSE = ']'.repeat(MAX_PIPELINE_BYTES - 16);

describe('the pipeline check and the event loop', () => {
  test('a dense file is checked while the app keeps answering', async () => {
    const opened = await openFakeManagers(await tempDir('gbcms-loop-'), warningsLogger());
    onCleanup(opened.close);
    const app = await buildApp({ store: opened.store, executions: opened.manager });
    onCleanup(() => app.close());
    const repo = await writePipeline(await tempDir('gbcms-loop-src-'), DENSE);
    const project = await opened.store.projects.create({ name: 'dense', repo });

    // What the loop would wait for if the server linted in-process, and what it must report.
    // Timed as the median of three after a warm-up: one slowed by the machine says little.
    const inProcess = lintPipelineSource(DENSE, '.gbcms.yml');
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      lintPipelineSource(DENSE, '.gbcms.yml');
      times.push(performance.now() - started);
    }
    const lintMs = times.sort((a, b) => a - b)[1] ?? 0;
    const errors = inProcess.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors[0]?.code, 'GBCMS_YAML_TOO_COMPLEX');

    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    let checking = true;
    let answered = 0;
    const pings = (async () => {
      while (checking) {
        const response = await app.inject({ method: 'GET', url: '/healthz' });
        assert.equal(response.statusCode, 200);
        answered += 1;
        await sleep(10);
      }
    })();
    const execution = await opened.manager.start({
      project,
      trigger: { event: 'push', branch: 'main' },
      source: { kind: 'project' },
    });
    const check = await awaitPlanCheck(opened.manager, execution.id, HANG_MS);
    checking = false;
    await pings;
    delay.disable();

    assert.equal(check?.status, 'error');
    assert.equal(check?.reason, errors.map(formatDiagnostic).join('\n'));
    assert.ok(answered > 0, 'the app answered /healthz during the check');
    const stallMs = delay.max / 1e6;
    assert.ok(
      stallMs < lintMs * STALL_SHARE,
      `the event loop stalled ${Math.round(stallMs)} ms; linting in-process takes ${Math.round(lintMs)} ms`,
    );
  });
});
