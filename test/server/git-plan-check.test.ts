// What POST /hooks/git waits for, against the real execution manager (fake backend): an
// invalid pipeline file ends the execution `error` with its diagnostics; a valid one turns it
// `running`. The bound only turns a hang into a failure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pushAnswerLines } from '../../server/git/push-answer.ts';
import { awaitPlanCheck } from '../../server/routes/hooks/plan-check.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { openFakeManagers, warningsLogger, writePipeline } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();
const BOUND_MS = 60_000;

async function started(pipeline: string) {
  const opened = await openFakeManagers(await tempDir('gbcms-plan-check-'), warningsLogger());
  onCleanup(opened.close);
  const repo = await writePipeline(await tempDir('gbcms-plan-check-src-'), pipeline);
  const project = await opened.store.projects.create({ name: 'checked', repo });
  const execution = await opened.manager.start({
    project,
    trigger: { event: 'push', branch: 'main' },
    source: { kind: 'project' },
  });
  return { manager: opened.manager, execution };
}

describe('waiting for the pipeline check', () => {
  test('an invalid file: error, its first diagnostic in the line the pusher sees', async () => {
    const { manager, execution } = await started('version: 1\nstepz:\n  a: {}\n');
    const check = await awaitPlanCheck(manager, execution.id, BOUND_MS);
    assert.equal(check?.status, 'error');
    const [line] = pushAnswerLines(
      {
        execution_id: execution.id,
        number: execution.number,
        status: check?.status ?? '',
        reason: check?.reason ?? null,
      },
      'refs/heads/main',
      'https://ci.example.com/executions/x',
    );
    assert.match(
      line ?? '',
      /^execution #1 for refs\/heads\/main ended at once: invalid pipeline file: \.gbcms\.yml:\d+:\d+: error /,
    );
  });

  test('a valid file: the execution is running (or already done) when the answer comes', async () => {
    const { manager, execution } = await started(
      'version: 1\nsteps:\n  hello:\n    image: alpine\n    commands: [echo hi]\n',
    );
    const check = await awaitPlanCheck(manager, execution.id, BOUND_MS);
    assert.ok(check && check.status !== 'error', JSON.stringify(check));
  });
});
