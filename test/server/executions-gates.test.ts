// Approval gates in the real execution manager, on the fake backend: the execution goes
// running -> blocked -> running while a step waits, as status observers (the forge's commit
// status among them) hear it; the manager answers a gate once; terminating it while a step
// waits skips the step and ends it killed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commitStatus } from '../../server/forges/commit-status.ts';
import type { Execution, Project } from '../../server/store/index.ts';
import { pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { collectEvents } from './helpers/collect-events.ts';
import { openFakeManagers, warningsLogger, writePipeline } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();

const PIPELINE = `version: 1
name: gates
steps:
  build:
    image: busybox:stable
    commands: [make]
  deploy:
    image: busybox:stable
    depends_on: [build]
    approval:
      message: Ship it?
      approvers: [alice]
    commands: [make deploy]
`;

async function setUp() {
  const { logger, warnings } = warningsLogger();
  const fake = await openFakeManagers(await tempDir('gbcms-gates-data-'), { logger });
  onCleanup(fake.close);
  const source = await writePipeline(await tempDir('gbcms-gates-src-'), PIPELINE);
  const project: Project = await fake.store.projects.create({ name: 'gates', repo: source });
  const statuses: string[] = [];
  fake.manager.events.on('status', (execution: Execution) => statuses.push(execution.status));
  const execution = await fake.manager.start({
    project,
    trigger: { event: 'manual', branch: 'main' },
    source: { kind: 'project' },
  });
  const events = collectEvents(fake.manager, execution.id);
  await pollUntil('deploy to wait at its gate', () => fake.manager.stepGate(execution.id, 'deploy'));
  await pollUntil(
    'the execution to be blocked',
    async () => (await fake.store.executions.get(execution.id))?.status === 'blocked',
  );
  return { ...fake, execution, statuses, events, warnings };
}

describe('approval gates in the execution manager', () => {
  test('approved: blocked while it waits, then running, and the first answer alone counts', async () => {
    const { manager, store, execution, statuses, events, warnings } = await setUp();
    assert.deepEqual(manager.stepGate(execution.id, 'deploy')?.gate, {
      message: 'Ship it?',
      approvers: ['alice'],
    });
    assert.equal(manager.stepGate(execution.id, 'build'), undefined);
    // What the forge is told while it waits.
    assert.deepEqual(commitStatus('github', { status: 'blocked', reason: null, context: 'gbcms/gates' }), {
      state: 'pending',
      description: 'waiting for approval',
      context: 'gbcms/gates',
    });
    assert.equal(await manager.decideStep(execution.id, 'deploy', { approved: true, by: 'alice' }), true);
    assert.equal(await manager.decideStep(execution.id, 'deploy', { approved: false, by: 'bob' }), false);
    const all = await events;
    const end = all.at(-1);
    assert.equal(end?.type === 'end' && end.execution.status, 'success');
    assert.deepEqual(statuses, ['pending', 'running', 'blocked', 'running', 'success']);
    assert.ok(
      all.some(
        (e) =>
          e.type === 'step' &&
          e.step.name === 'deploy' &&
          e.step.status === 'blocked' &&
          e.step.reason === 'Ship it?',
      ),
    );
    const deploy = (await store.steps.list(execution.id)).find((step) => step.name === 'deploy');
    assert.deepEqual(
      [deploy?.status, deploy?.approval_message, deploy?.approval_decision, deploy?.approval_by],
      ['success', 'Ship it?', 'approved', 'alice'],
    );
    assert.deepEqual(warnings, []);
  });

  test('terminated while a step waits: the step is skipped and the execution ends killed', async () => {
    const { manager, store, execution, events } = await setUp();
    assert.ok(await manager.terminate(execution.id));
    const end = (await events).at(-1);
    assert.equal(end?.type === 'end' && end.execution.status, 'killed');
    const deploy = (await store.steps.list(execution.id)).find((step) => step.name === 'deploy');
    assert.deepEqual([deploy?.status, deploy?.reason], ['skipped', 'run was terminated']);
    assert.equal(await manager.decideStep(execution.id, 'deploy', { approved: true, by: 'alice' }), false);
  });
});
