// Steps prepared at a gate on the real engine: the next step's container is started while its
// dependency runs, and its commands wait for the dependency's success. The dependency here
// holds until the test lets it go (a file in the shared workspace), so the order is shown by
// what each step finds in the workspace, never by timing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { LABEL_RUN, LABEL_STEP } from '../../engine/backends/docker/labels.ts';
import type { PipelineFile } from '../../engine/config/pipeline-file.generated.ts';
import type { RunEvent } from '../../engine/events.ts';
import { readLogFile } from '../../engine/logs/log-line.ts';
import { type RunOptions, runPipeline } from '../../engine/run.ts';
import { newRunId } from '../../engine/run-id.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { beforeHang } from '../helpers/hang.ts';
import { planOf, tempDir } from '../helpers/plans.ts';
import { pollUntil } from '../helpers/poll.ts';

const environments = { box: { image: BUSYBOX_IMAGE, pull: 'never' as const } };
/** The dependency waits for the test to create this file in the workspace. */
const HOLD = 'until [ -f /workspace/.go ]; do sleep 0.05; done';

function startRun(steps: PipelineFile['steps'], options: Partial<RunOptions> = {}) {
  const id = newRunId();
  const runsDir = tempDir('gbcms-warm-');
  const events: RunEvent[] = [];
  const record = runPipeline(planOf(steps, { environments }), {
    backend: new DockerBackend({ docker }),
    runsDir,
    id,
    concurrency: 2,
    observer: (event) => events.push(event),
    ...options,
  });
  return { id, events, record: beforeHang(record, `run ${id}`), runDir: join(runsDir, id) };
}

async function containersOf(runId: string, step?: string) {
  const label = [`${LABEL_RUN}=${runId}`, ...(step === undefined ? [] : [`${LABEL_STEP}=${step}`])];
  return docker.listContainers({ all: true, filters: { label } });
}

/** Resolves once the step's container is up: started, its script held at its gate. */
function gatedContainer(runId: string, step: string) {
  return pollUntil(`the gated container of ${step}`, async () => {
    const [container] = await containersOf(runId, step);
    return container?.State === 'running' ? container : undefined;
  });
}

/** Lets a held dependency go on, from inside its own container. */
async function letGo(runId: string, step: string) {
  const container = await pollUntil(
    `the container of ${step}`,
    async () => (await containersOf(runId, step))[0],
  );
  const exec = await docker.getContainer(container.Id).exec({
    Cmd: ['touch', '/workspace/.go'],
    User: '1000:1000',
    AttachStdout: true,
  });
  const stream = await exec.start({});
  for await (const _ of stream);
}

async function logText(runDir: string, record: Awaited<ReturnType<typeof runPipeline>>, step: string) {
  const log = record.steps.find((s) => s.name === step)?.log;
  assert.ok(log, `no log for ${step}`);
  return (await readLogFile(join(runDir, log))).map((line) => line.text).join('\n');
}

describe('steps prepared at a gate (Docker)', await dockerTestOptions(), () => {
  before(async () => {
    await ensureBusyboxImage();
  });

  test('the next step is started ahead, runs only after its dependency, and sees what it wrote', async () => {
    const run = startRun({
      first: {
        environment: 'box',
        commands: [HOLD, 'test ! -e /workspace/second.txt', 'echo from-first > /workspace/first.txt'],
      },
      second: {
        environment: 'box',
        depends_on: ['first'],
        commands: ['cat /workspace/first.txt', 'echo ran > /workspace/second.txt'],
      },
    });
    await gatedContainer(run.id, 'second');
    // Its container runs, and the dependency still finds nothing of it in the workspace.
    await letGo(run.id, 'first');
    const record = await run.record;
    assert.deepEqual(
      record.steps.map((s) => [s.name, s.status, s.exit_code]),
      [
        ['first', 'success', 0],
        ['second', 'success', 0],
      ],
    );
    assert.match(await logText(run.runDir, record, 'second'), /^from-first$/m);
    assert.deepEqual(await containersOf(run.id), []);
  });

  test('a failed dependency removes the gated container; the step is skipped and nothing is left', async () => {
    const run = startRun({
      first: { environment: 'box', commands: [HOLD, 'exit 3'] },
      second: { environment: 'box', depends_on: ['first'], commands: ['echo must-not-run'] },
    });
    await gatedContainer(run.id, 'second');
    await letGo(run.id, 'first');
    const record = await run.record;
    assert.deepEqual(
      record.steps.map((s) => [s.name, s.status]),
      [
        ['first', 'failure'],
        ['second', 'skipped'],
      ],
    );
    assert.equal(record.steps[1]?.reason, "depends on 'first', which ended with failure");
    assert.ok(!run.events.some((e) => e.type === 'log' && e.line.text.includes('must-not-run')));
    assert.deepEqual(await containersOf(run.id), []);
  });

  test('terminating the run while a step waits at its gate leaves no container and no volume', async () => {
    const controller = new AbortController();
    const run = startRun(
      {
        first: { environment: 'box', commands: [HOLD] },
        second: { environment: 'box', depends_on: ['first'], commands: ['echo must-not-run'] },
        third: { environment: 'box', depends_on: ['second'], commands: ['echo must-not-run'] },
      },
      { signal: controller.signal, graceMs: 1000 },
    );
    await gatedContainer(run.id, 'second');
    await gatedContainer(run.id, 'third');
    controller.abort();
    const record = await run.record;
    assert.equal(record.status, 'killed');
    assert.deepEqual(
      record.steps.map((s) => s.status),
      ['killed', 'skipped', 'skipped'],
    );
    assert.ok(!run.events.some((e) => e.type === 'log' && e.line.text.includes('must-not-run')));
    assert.deepEqual(await containersOf(run.id), []);
    const { Volumes } = await docker.listVolumes({ filters: { label: [`${LABEL_RUN}=${run.id}`] } });
    assert.deepEqual(Volumes ?? [], []);
  });

  test('a gated step retries in a fresh container, and its timeout runs from its release', async () => {
    const run = startRun({
      first: { environment: 'box', commands: [HOLD] },
      second: {
        environment: 'box',
        depends_on: ['first'],
        retries: 1,
        // Held at its gate for longer than this, it still has all of it once released.
        timeout: '15s',
        commands: [
          'if [ -f /workspace/tried ]; then echo second-attempt; else touch /workspace/tried; exit 1; fi',
        ],
      },
      slow: {
        environment: 'box',
        depends_on: ['first'],
        timeout: '2s',
        commands: ['sleep 600'],
      },
    });
    await gatedContainer(run.id, 'second');
    await gatedContainer(run.id, 'slow');
    // Longer than second's timeout, before its release.
    await sleep(16_000);
    await letGo(run.id, 'first');
    const record = await run.record;
    const [, second, slow] = record.steps;
    assert.deepEqual([second?.status, second?.attempts], ['success', 2]);
    assert.match(await logText(run.runDir, record, 'second'), /^second-attempt$/m);
    const containers = run.events.filter((e) => e.type === 'environment' && e.step === 'second');
    assert.equal(new Set(containers.map((e) => (e.type === 'environment' ? e.container_id : ''))).size, 2);
    // The timeout still stops a gated step that runs too long.
    assert.deepEqual([slow?.status, slow?.reason], ['failure', 'timed out after 2.0s']);
    assert.deepEqual(await containersOf(run.id), []);
  });
});
