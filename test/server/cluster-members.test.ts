// The servers sharing one database, as each sees the others (cluster/members.ts): a peer that
// beats is alive and reached at its URL; one silent for DEAD_AFTER_MS, or stopped cleanly, is
// gone, and its executions are taken up by exactly one of the live servers (one conditional
// update each), the others finding nothing left to take.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEAD_AFTER_MS, Members } from '../../server/cluster/members.ts';
import { rowsToTake } from '../../server/executions/restart-recovery.ts';
import type { Store } from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';

forEachDatabase((databases) => {
  const members = (store: Store, name: string, now: () => number) =>
    new Members({
      store,
      name,
      version: 'test',
      alone: false,
      now,
      onError: (error) => assert.fail(String(error)),
      onNameClash: () => assert.fail(`name clash for ${name}`),
    });

  test('a silent or stopped peer is gone; its executions go to one live server only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gbcms-members-'));
    // One clock for the store's timestamps and the members' judgement: the test moves it.
    let clock = Date.now();
    const now = () => clock;
    const store = await databases.openStore(dir, { now: () => new Date(clock) });
    try {
      // a registers and never beats again (a process killed right after its start).
      await store.servers.register({ name: 'a', url: 'http://a:8080', incarnation: 'one', version: null });
      const b = members(store, 'b', now);
      const c = members(store, 'c', now);
      await b.start('http://b:8080');
      await c.start('http://c:8080');
      await b.load();
      assert.equal(b.hasPeers, true);
      assert.deepEqual(b.peer('a'), { name: 'a', url: 'http://a:8080' });
      assert.equal(b.peer('b'), undefined, 'itself is no peer');
      assert.equal(b.isGone('a'), false);

      const project = await store.projects.create({ name: 'p', repo: '/srv/p.git' });
      const trigger = { event: 'api' as const, branch: 'main' };
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push((await store.executions.create({ project_id: project.id, trigger, server: 'a' })).id);
      }

      // a stops beating: past DEAD_AFTER_MS it is gone, for b and c alike.
      clock += DEAD_AFTER_MS + 1;
      await store.servers.beat('b', b.incarnation);
      await store.servers.beat('c', c.incarnation);
      await b.load();
      await c.load();
      assert.equal(b.isGone('a'), true);
      assert.equal(b.peer('a'), undefined);
      assert.deepEqual(
        b.gone().map((row) => row.name),
        ['a'],
      );
      const [byB, byC] = await Promise.all([
        rowsToTake(store, b, ['pending'], 'a'),
        rowsToTake(store, c, ['pending'], 'a'),
      ]);
      assert.deepEqual([...byB, ...byC].map((row) => row.id).sort(), [...ids].sort(), 'each taken once');
      for (const row of byB) assert.equal((await store.executions.get(row.id))?.server, 'b');
      for (const row of byC) assert.equal((await store.executions.get(row.id))?.server, 'c');

      // c stops cleanly: gone at once, though its clock says it beat just now.
      await c.stop();
      await b.load();
      assert.equal(b.isGone('c'), true);
      for (const gone of b.gone()) await b.forget(gone);
      await b.load();
      assert.deepEqual(
        (await store.servers.list()).map((row) => row.name),
        ['b'],
      );
      await b.stop();
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
