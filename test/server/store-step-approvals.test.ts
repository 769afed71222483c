// The store's side of approval gates: a started execution goes running <-> blocked (and no
// whole-execution approval applies to it); a step's gate keeps what it asks, and the first
// decision on it stands.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { StepRecord } from '../../engine/run-record.ts';
import type { Project, Store } from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';

forEachDatabase((databases) => {
  const { tempDir, onCleanup } = cleanUpAfterAll();
  const AT = '2026-01-02T03:04:05.000Z';

  let store: Store;
  let project: Project;
  before(async () => {
    store = await databases.openStore(await tempDir('gbcms-store-gates-'));
    onCleanup(() => store.close());
    project = await store.projects.create({ name: 'app', repo: '/srv/git/app' });
  });

  const step = (name: string, status: StepRecord['status']): StepRecord => ({
    name,
    status,
    exit_code: null,
    reason: status === 'blocked' ? 'Ship it?' : null,
    started_at: null,
    ended_at: null,
    duration_ms: null,
    attempts: 0,
    log: `logs/${name}.log`,
  });

  describe('approval gates in the store', () => {
    test('a started execution goes running -> blocked -> running; a pending one does not', async () => {
      const execution = await store.executions.create({
        project_id: project.id,
        trigger: { event: 'manual' },
      });
      assert.equal(await store.executions.setWaiting(execution.id, true), false, 'not started yet');
      assert.equal(await store.executions.setStarted(execution.id, AT), true);
      assert.equal(await store.executions.setWaiting(execution.id, true), true);
      assert.equal((await store.executions.get(execution.id))?.status, 'blocked');
      assert.equal(await store.executions.setWaiting(execution.id, true), false, 'already blocked');
      // Blocked at a gate is not blocked as a whole: approving the execution would run it again.
      assert.equal(await store.executions.setApproved(execution.id, 'alice', AT), false);
      assert.equal(await store.executions.setWaiting(execution.id, false), true);
      assert.equal((await store.executions.get(execution.id))?.status, 'running');
      assert.equal(await store.executions.setWaiting(execution.id, true), true);
      assert.equal(await store.executions.setEnded(execution.id, 'killed', 'terminated by user', AT), true);
      assert.equal(await store.executions.setWaiting(execution.id, false), false, 'ended');
    });

    test("a step's gate keeps what it asks, and the first decision stands", async () => {
      const execution = await store.executions.create({
        project_id: project.id,
        trigger: { event: 'manual' },
      });
      await store.steps.upsert(execution.id, step('deploy', 'blocked'), 0);
      await store.steps.openGate(execution.id, 'deploy', {
        message: 'Ship it?',
        approvers: ['alice', 'admin'],
      });
      const [opened] = await store.steps.list(execution.id);
      assert.deepEqual(
        [opened?.approval_message, opened?.approval_approvers, opened?.approval_decision],
        ['Ship it?', '["alice","admin"]', null],
      );
      assert.equal(
        await store.steps.decideGate(execution.id, 'deploy', { decision: 'declined', by: 'alice', at: AT }),
        true,
      );
      assert.equal(
        await store.steps.decideGate(execution.id, 'deploy', { decision: 'approved', by: 'bob', at: AT }),
        false,
      );
      // The step's own record changes later (skipped); the decision stays.
      await store.steps.upsert(execution.id, { ...step('deploy', 'skipped'), reason: 'declined by alice' });
      const [decided] = await store.steps.list(execution.id);
      assert.deepEqual(
        [decided?.status, decided?.approval_decision, decided?.approval_by, decided?.approval_at],
        ['skipped', 'declined', 'alice', AT],
      );
    });
  });
});
