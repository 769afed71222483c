// The store's side of approvals: a blocked execution moves only to pending (approved, with who
// and when) or to a finished status (declined), never straight to running; it keeps where its
// source comes from; badges skip it; projects default to approve.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Project, Store } from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';

forEachDatabase((databases) => {
  const { tempDir, onCleanup } = cleanUpAfterAll();
  const AT = '2026-01-02T03:04:05.000Z';
  const FORK = 'https://git.example.com/forker/app.git';

  let store: Store;
  let project: Project;
  before(async () => {
    store = await databases.openStore(await tempDir('gbcms-store-approvals-'));
    onCleanup(() => store.close());
    project = await store.projects.create({ name: 'app', repo: '/srv/git/app' });
  });

  const blocked = () =>
    store.executions.create({
      project_id: project.id,
      trigger: { event: 'pull_request', branch: 'patch-1', fork: true },
      blocked: true,
      source_repo: FORK,
    });

  describe('blocked executions in the store', () => {
    test('projects wait for approval by default; the setting changes and reads back', async () => {
      assert.equal(project.fork_pull_requests, 'approve');
      const changed = await store.projects.update(project.id, { fork_pull_requests: 'never' });
      assert.equal(changed?.fork_pull_requests, 'never');
      const back = await store.projects.update(project.id, { fork_pull_requests: 'approve' });
      assert.equal((await store.projects.get(project.id))?.fork_pull_requests, back?.fork_pull_requests);
    });

    test('approved once: blocked -> pending with who and when, then it may start', async () => {
      const e = await blocked();
      assert.deepEqual(
        [e.status, e.source_repo, e.approved_by, e.approved_at],
        ['blocked', FORK, null, null],
      );
      assert.equal(await store.executions.setStarted(e.id), false, 'no start without approval');
      assert.equal(await store.executions.setApproved(e.id, 'ada', AT), true);
      assert.equal(await store.executions.setApproved(e.id, 'bob', AT), false, 'approved once');
      const approved = await store.executions.get(e.id);
      assert.deepEqual(
        [approved?.status, approved?.approved_by, approved?.approved_at],
        ['pending', 'ada', AT],
      );
      assert.equal(await store.executions.setStarted(e.id), true);
    });

    test('declined: blocked -> killed, after which it can be neither approved nor started', async () => {
      const e = await blocked();
      assert.equal(await store.executions.setEnded(e.id, 'killed', 'declined by ada', AT), true);
      assert.equal(await store.executions.setApproved(e.id, 'ada', AT), false);
      assert.equal(await store.executions.setStarted(e.id), false);
      assert.equal((await store.executions.get(e.id))?.status, 'killed');
    });

    test('an execution that never waited cannot be approved; listByStatus finds the blocked ones', async () => {
      const plain = await store.executions.create({
        project_id: project.id,
        trigger: { event: 'push', branch: 'main' },
      });
      assert.equal(plain.status, 'pending');
      assert.equal(plain.source_repo, null);
      assert.equal(await store.executions.setApproved(plain.id, 'ada', AT), false);
      const waiting = await blocked();
      const listed = await store.executions.listByStatus(['blocked']);
      assert.ok(listed.some((row) => row.id === waiting.id));
      assert.ok(listed.every((row) => row.status === 'blocked'));
    });

    test("the badge's latest execution is never a blocked one", async () => {
      const own = await store.projects.create({ name: 'badge', repo: '/srv/git/badge' });
      const ran = await store.executions.create({
        project_id: own.id,
        trigger: { event: 'push', branch: 'main' },
      });
      await store.executions.setStarted(ran.id);
      await store.executions.setEnded(ran.id, 'success', null);
      await store.executions.create({
        project_id: own.id,
        trigger: { event: 'pull_request', branch: 'main', fork: true },
        blocked: true,
      });
      assert.equal((await store.executions.latestForBadge(own.id))?.id, ran.id);
      assert.equal((await store.executions.latestForBadge(own.id, 'main'))?.id, ran.id);
    });
  });
});
