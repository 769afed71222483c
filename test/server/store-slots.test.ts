import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Project, Store } from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';

forEachDatabase((databases) => {
  let root: string;
  let dirCount = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'gbcms-slots-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** `count` stores on one database: on PostgreSQL each is a server of its own (its own pool). */
  async function openStores(count: number): Promise<Store[]> {
    dirCount += 1;
    const dir = join(root, `db-${dirCount}`);
    const stores: Store[] = [];
    for (let i = 0; i < count; i++) stores.push(await databases.openStore(dir));
    return stores;
  }

  async function closeAll(stores: readonly Store[]): Promise<void> {
    for (const store of stores) await store.close();
  }

  async function projects(store: Store, count: number): Promise<Project[]> {
    const owner = (await store.users.create({ username: 'owner', role: 'developer' })).id;
    const made: Project[] = [];
    for (let i = 0; i < count; i++) {
      made.push(await store.projects.create({ name: `p${i}`, repo: '/src', owner_id: owner }));
    }
    return made;
  }

  const create = async (store: Store, project: Project) =>
    (await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } })).id;

  test('a take respects the global limit and the project limit; a release makes room', async () => {
    const stores = await openStores(1);
    const [store] = stores as [Store];
    try {
      const [a, b] = (await projects(store, 2)) as [Project, Project];
      const a1 = await create(store, a);
      const a2 = await create(store, a);
      const a3 = await create(store, a);
      const b1 = await create(store, b);
      const limits = (projectLimit: number) => ({ maxRunning: 3, projectLimit });
      assert.equal(await store.slots.tryTakeSlot(a1, a.id, limits(2)), 'taken');
      assert.equal(await store.slots.tryTakeSlot(a2, a.id, limits(2)), 'taken');
      // Taken again by its holder: still its own, not a second slot.
      assert.equal(await store.slots.tryTakeSlot(a2, a.id, limits(2)), 'taken');
      assert.equal(await store.slots.tryTakeSlot(a3, a.id, limits(2)), 'project-busy');
      assert.equal(await store.slots.tryTakeSlot(b1, b.id, limits(1)), 'taken');
      // Three held: even a project with room waits now.
      const b2 = await create(store, b);
      assert.equal(await store.slots.tryTakeSlot(b2, b.id, limits(5)), 'all-busy');
      await store.slots.releaseSlot(a1);
      assert.equal(await store.slots.tryTakeSlot(a3, a.id, limits(2)), 'taken');
      assert.deepEqual((await store.slots.holders()).sort(), [a2, a3, b1].sort());
      // Releasing what is not held changes nothing.
      await store.slots.releaseSlot(a1);
      assert.equal((await store.slots.holders()).length, 3);
    } finally {
      await closeAll(stores);
    }
  });

  test('an ending execution frees its slot; an ended one cannot take one', async () => {
    const stores = await openStores(1);
    const [store] = stores as [Store];
    try {
      const [a] = (await projects(store, 1)) as [Project];
      const a1 = await create(store, a);
      const a2 = await create(store, a);
      const limits = { maxRunning: 5, projectLimit: 1 };
      assert.equal(await store.slots.tryTakeSlot(a1, a.id, limits), 'taken');
      assert.equal(await store.slots.tryTakeSlot(a2, a.id, limits), 'project-busy');
      assert.equal(await store.executions.setEnded(a1, 'error', 'engine restarted'), true);
      assert.deepEqual(await store.slots.holders(), []);
      assert.equal(await store.slots.tryTakeSlot(a1, a.id, limits), 'all-busy');
      assert.equal(await store.slots.tryTakeSlot(a2, a.id, limits), 'taken');
    } finally {
      await closeAll(stores);
    }
  });

  // Two servers share PostgreSQL; SQLite has one server, whose one store serialises the takes.
  const servers = databases.dialect === 'postgres' ? 2 : 1;

  test(`20 takers on ${servers} store(s) of one database never hold more than the limits`, async () => {
    const stores = await openStores(servers);
    const [first, second = first] = stores as [Store, Store?];
    try {
      const [a, b] = (await projects(first, 2)) as [Project, Project];
      const maxRunning = 3;
      const projectLimit = 2;
      const takers: Array<{ id: string; project: Project; store: Store }> = [];
      for (let i = 0; i < 20; i++) {
        const project = i % 2 === 0 ? a : b;
        const store = i % 4 < 2 ? first : second;
        takers.push({ id: await create(first, project), project, store });
      }
      const projectOf = new Map(takers.map((taker) => [taker.id, taker.project.id]));
      // Every taker tries again until it has held a slot a moment; meanwhile what the database
      // holds never passes the limits. `held` counts from a take's answer to its release's call,
      // inside the time the database holds the row: its peak may not pass the limits either.
      let held = 0;
      let peak = 0;
      let refused = 0;
      const holding = new Map<string, number>();
      let peakPerProject = 0;
      let notYet = takers.length;
      await Promise.all(
        takers.map(async ({ id, project, store }) => {
          for (;;) {
            const take = await store.slots.tryTakeSlot(id, project.id, { maxRunning, projectLimit });
            if (take !== 'taken') {
              refused += 1;
              await sleep(1);
              continue;
            }
            notYet -= 1;
            const refusedBefore = refused;
            held += 1;
            peak = Math.max(peak, held);
            const inProject = (holding.get(project.id) ?? 0) + 1;
            holding.set(project.id, inProject);
            peakPerProject = Math.max(peakPerProject, inProject);
            const holders = await store.slots.holders();
            assert.ok(holders.includes(id));
            assert.ok(holders.length <= maxRunning, `${holders.length} slots held at once`);
            const ofProject = holders.filter((holder) => projectOf.get(holder) === project.id).length;
            assert.ok(ofProject <= projectLimit, `${ofProject} slots of one project held at once`);
            // Held until another taker was refused meanwhile (while one still waits): they compete.
            while (refused === refusedBefore && notYet > 0) await sleep(1);
            held -= 1;
            holding.set(project.id, (holding.get(project.id) ?? 1) - 1);
            await store.slots.releaseSlot(id);
            return;
          }
        }),
      );
      assert.ok(peak <= maxRunning, `peak ${peak}`);
      assert.ok(peakPerProject <= projectLimit, `peak per project ${peakPerProject}`);
      assert.ok(refused > 0);
      assert.deepEqual(await first.slots.holders(), []);
    } finally {
      await closeAll(stores);
    }
  });
});
