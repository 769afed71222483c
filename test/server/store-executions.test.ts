import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunStatus } from '../../engine/status.ts';
import {
  type Execution,
  InvalidCursorError,
  type ListExecutionsOptions,
  type Project,
  type Store,
} from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';

forEachDatabase((databases) => {
  function manualClock(start = '2024-01-01T00:00:00.000Z') {
    let t = Date.parse(start);
    return {
      now: () => new Date(t),
      advance(ms: number) {
        t += ms;
      },
    };
  }

  const clock = manualClock();
  let dir: string;
  let store: Store;
  let owner: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gbcms-store-'));
    store = await databases.openStore(dir, { now: clock.now });
    owner = (await store.users.create({ username: 'owner', role: 'developer' })).id;
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  // deleteOlderThan acts on every project: tests of it get a store of their own.
  let ownStores = 0;
  async function withOwnStore(use: (own: Store) => Promise<void>): Promise<void> {
    ownStores += 1;
    const own = await databases.openStore(join(dir, `own-${ownStores}`), { now: clock.now });
    try {
      await use(own);
    } finally {
      await own.close();
    }
  }

  let projectCount = 0;
  function newProject(): Promise<Project> {
    projectCount += 1;
    return store.projects.create({ name: `p${projectCount}`, repo: '/src', owner_id: owner });
  }

  /** Takes a new execution to `status` the way the server does, through the guarded setters. */
  async function reach(target: Store, id: string, status: RunStatus): Promise<void> {
    if (status === 'pending') return;
    if (status === 'running') {
      assert.equal(await target.executions.setStarted(id), true);
      return;
    }
    assert.equal(await target.executions.setEnded(id, status, null), true);
  }

  async function listAll(projectId: string, options: ListExecutionsOptions = {}): Promise<Execution[][]> {
    const pages: Execution[][] = [];
    let cursor: string | undefined;
    do {
      const page = await store.executions.listByProject(projectId, { ...options, cursor });
      pages.push(page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    return pages;
  }

  describe('execution numbers', () => {
    test('count 1, 2, 3 per project, independently', async () => {
      const a = await newProject();
      const b = await newProject();
      const numbers: string[] = [];
      for (const project of [a, a, b, a, b]) {
        const e = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
        numbers.push(`${project.name}#${e.number}`);
      }
      assert.deepEqual(numbers, [`${a.name}#1`, `${a.name}#2`, `${b.name}#1`, `${a.name}#3`, `${b.name}#2`]);
    });

    test('stay unique and gapless under 50 concurrent creates', async () => {
      const project = await newProject();
      const created = await Promise.all(
        Array.from({ length: 50 }, () =>
          store.executions.create({ project_id: project.id, trigger: { event: 'push', branch: 'main' } }),
        ),
      );
      const numbers = created.map((e) => e.number).sort((x, y) => x - y);
      assert.deepEqual(
        numbers,
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      assert.equal(new Set(created.map((e) => e.id)).size, 50);
    });

    test('are not reused after old executions are deleted', () =>
      withOwnStore(async (own) => {
        const project = await own.projects.create({ name: 'p', repo: '/src' });
        const first = await own.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
        await own.executions.setEnded(first.id, 'success', null);
        clock.advance(1000);
        assert.deepEqual(await own.executions.deleteOlderThan(clock.now()), [first.logs_dir]);
        const next = await own.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
        assert.equal(next.number, 2);
      }));

    test('a new execution is pending, with its trigger, logs folder and defaults', async () => {
      const project = await newProject();
      const e = await store.executions.create({
        project_id: project.id,
        trigger: { event: 'tag', tag: 'v1.0.0', branch: 'main', commit: 'abc123', author: 'ada' },
        message: 'release',
      });
      assert.equal(e.status, 'pending');
      assert.equal(e.ref, 'v1.0.0');
      assert.equal(e.ref_type, 'tag');
      assert.equal(e.commit_sha, 'abc123');
      assert.equal(e.author, 'ada');
      assert.equal(e.logs_dir, `executions/${e.id}`);
      assert.equal(e.created_at, clock.now().toISOString());
      assert.match(e.id, /^[A-Za-z0-9_-]{22}$/);
      assert.deepEqual(await store.executions.get(e.id), e);
      const listed = (await store.executions.listByProject(project.id)).items;
      assert.deepEqual(
        listed.find((x) => x.number === e.number),
        e,
      );
    });
  });

  describe('listing executions', () => {
    let project: Project;
    const branches = ['main', 'feature', 'main', 'fix'];
    const statuses: RunStatus[] = ['success', 'failure', 'success', 'running', 'pending'];

    let other: Project;

    before(async () => {
      project = await newProject();
      other = await newProject();
      for (let i = 0; i < 45; i++) {
        // Three executions per timestamp: the keyset must break ties.
        if (i % 3 === 0) clock.advance(1000);
        const e = await store.executions.create({
          project_id: project.id,
          trigger: { event: 'push', branch: branches[i % branches.length] },
        });
        await reach(store, e.id, statuses[i % statuses.length] ?? 'pending');
        await store.executions.create({ project_id: other.id, trigger: { event: 'push', branch: 'main' } });
      }
      await store.executions.create({ project_id: project.id, trigger: { event: 'tag', tag: 'main' } });
    });

    test('pages return every row once, newest first', async () => {
      const pages = await listAll(project.id, { limit: 7 });
      assert.deepEqual(
        pages.map((p) => p.length),
        [7, 7, 7, 7, 7, 7, 4],
      );
      const numbers = pages.flat().map((e) => e.number);
      assert.deepEqual(
        numbers,
        Array.from({ length: 46 }, (_, i) => 46 - i),
      );
      assert.ok(pages.flat().every((e) => e.project_id === project.id));
    });

    test('filters by branch and status, across pages', async () => {
      const all = (await listAll(project.id, { limit: 100 })).flat();
      const expectations: ListExecutionsOptions[] = [
        { branch: 'main' },
        { status: 'success' },
        { branch: 'main', status: 'success' },
        { branch: 'nowhere' },
      ];
      for (const filter of expectations) {
        const got = (await listAll(project.id, { ...filter, limit: 4 })).flat();
        const want = all.filter(
          (e) =>
            (filter.branch === undefined || (e.ref === filter.branch && e.ref_type === 'branch')) &&
            (filter.status === undefined || e.status === filter.status),
        );
        assert.deepEqual(
          got.map((e) => e.number),
          want.map((e) => e.number),
          JSON.stringify(filter),
        );
      }
      const mainBranch = (await listAll(project.id, { branch: 'main' })).flat();
      assert.ok(
        mainBranch.length > 0 && mainBranch.every((e) => e.ref_type === 'branch'),
        'the tag named main is not a branch',
      );
    });

    test('rows created while paging do not shift later pages', async () => {
      const own = await newProject();
      for (let i = 0; i < 10; i++) {
        clock.advance(10);
        await store.executions.create({ project_id: own.id, trigger: { event: 'manual' } });
      }
      const first = await store.executions.listByProject(own.id, { limit: 4 });
      clock.advance(10);
      await store.executions.create({ project_id: own.id, trigger: { event: 'manual' } });
      const second = await store.executions.listByProject(own.id, {
        limit: 4,
        cursor: first.next_cursor ?? '',
      });
      assert.deepEqual(
        [...first.items, ...second.items].map((e) => e.number),
        [10, 9, 8, 7, 6, 5, 4, 3],
      );
    });

    test('limit defaults to 20 and is capped at 100', async () => {
      assert.equal((await store.executions.listByProject(project.id)).items.length, 20);
      const big = await newProject();
      await Promise.all(
        Array.from({ length: 105 }, () =>
          store.executions.create({ project_id: big.id, trigger: { event: 'api' } }),
        ),
      );
      const page = await store.executions.listByProject(big.id, { limit: 1000 });
      assert.equal(page.items.length, 100);
      assert.notEqual(page.next_cursor, null);
      assert.equal((await store.executions.listByProject(big.id, { limit: 0 })).items.length, 1);
    });

    test('a cursor that was not handed out is rejected', async () => {
      for (const cursor of ['garbage', '', Buffer.from('[1,2]').toString('base64url')]) {
        await assert.rejects(store.executions.listByProject(project.id, { cursor }), InvalidCursorError);
        await assert.rejects(store.executions.listRecent([project.id], { cursor }), InvalidCursorError);
      }
    });

    test('across projects: every row once, newest first, each project by number, filters kept', async () => {
      const ids = [project.id, other.id];
      const own = [
        ...(await listAll(project.id, { limit: 100 })).flat(),
        ...(await listAll(other.id, { limit: 100 })).flat(),
      ];
      for (const filter of [{}, { branch: 'main' }, { status: 'success' as const }]) {
        const got: Execution[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.executions.listRecent(ids, { ...filter, limit: 6, cursor });
          got.push(...page.items);
          cursor = page.next_cursor ?? undefined;
        } while (cursor !== undefined);
        const want = own.filter(
          (e) =>
            (!('branch' in filter) || (e.ref === filter.branch && e.ref_type === 'branch')) &&
            (!('status' in filter) || e.status === filter.status),
        );
        assert.deepEqual(new Set(got.map((e) => e.id)).size, got.length, 'no row twice');
        assert.deepEqual(got.map((e) => e.id).sort(), want.map((e) => e.id).sort(), JSON.stringify(filter));
        for (let i = 1; i < got.length; i++) {
          const [before, after] = [got[i - 1] as Execution, got[i] as Execution];
          assert.ok(before.created_at >= after.created_at, 'newest first');
          if (before.project_id === after.project_id && before.created_at === after.created_at)
            assert.ok(before.number > after.number, 'one project newest first within a tie');
        }
      }
      assert.deepEqual(await store.executions.listRecent([]), { items: [], next_cursor: null });
    });
  });

  describe('execution status', () => {
    test('moves pending -> running -> finished and never back', async () => {
      const project = await newProject();
      const e = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
      clock.advance(1000);
      assert.equal(await store.executions.setStarted(e.id), true);
      assert.equal(await store.executions.setStarted(e.id), false);
      clock.advance(1000);
      assert.equal(await store.executions.setEnded(e.id, 'killed', 'terminated by ada'), true);
      assert.equal(await store.executions.setEnded(e.id, 'success', null), false);
      const stored = await store.executions.get(e.id);
      assert.equal(stored?.status, 'killed');
      assert.equal(stored?.reason, 'terminated by ada');
      assert.equal(Date.parse(stored?.ended_at ?? '') - Date.parse(stored?.started_at ?? ''), 1000);
      await assert.rejects(store.executions.setEnded(e.id, 'running', null), RangeError);
    });

    test('pending can end without starting; a finished one does not start; unknown ids change nothing', async () => {
      const project = await newProject();
      const e = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
      assert.equal(await store.executions.setEnded(e.id, 'error', 'lost'), true);
      assert.equal(await store.executions.setStarted(e.id), false);
      const stored = await store.executions.get(e.id);
      assert.equal(stored?.status, 'error');
      assert.equal(stored?.reason, 'lost');
      assert.equal(stored?.started_at, null);
      assert.equal(await store.executions.setStarted('missing'), false);
      assert.equal(await store.executions.setEnded('missing', 'error', null), false);
    });

    test('setCommit fills in the commit; setHeartbeat stamps a running execution only', async () => {
      const project = await newProject();
      const e = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
      await store.executions.setCommit(e.id, { commit_sha: 'c0ffee', author: 'ada', message: 'fix' });
      assert.deepEqual(await store.executions.get(e.id), {
        ...e,
        commit_sha: 'c0ffee',
        author: 'ada',
        message: 'fix',
      });
      const at = '2030-01-01T00:00:00.000Z';
      assert.equal(await store.executions.setHeartbeat(e.id, at), false, 'not running yet');
      await store.executions.setStarted(e.id);
      assert.equal(await store.executions.setHeartbeat(e.id, at), true);
      assert.equal((await store.executions.get(e.id))?.last_heartbeat_at, at);
      await store.executions.setEnded(e.id, 'success', null);
      assert.equal(await store.executions.setHeartbeat(e.id, '2030-01-02T00:00:00.000Z'), false);
      assert.equal((await store.executions.get(e.id))?.last_heartbeat_at, at);
    });

    test('countByStatus counts every execution once', () =>
      withOwnStore(async (own) => {
        assert.deepEqual(await own.executions.countByStatus(), []);
        const project = await own.projects.create({ name: 'p', repo: '/src' });
        const make = () => own.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
        await make();
        await own.executions.setStarted((await make()).id);
        await own.executions.setEnded((await make()).id, 'failure', null);
        await own.executions.setEnded((await make()).id, 'failure', null);
        const counts = await own.executions.countByStatus();
        assert.deepEqual(Object.fromEntries(counts.map(({ status, count }) => [status, count])), {
          pending: 1,
          running: 1,
          failure: 2,
        });
      }));

    test('listByStatus finds active executions oldest first', async () => {
      const project = await newProject();
      const a = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
      clock.advance(5);
      const b = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
      clock.advance(5);
      const c = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
      await store.executions.setStarted(b.id);
      await store.executions.setEnded(c.id, 'success', null);
      const active = (await store.executions.listByStatus(['running', 'pending'])).filter(
        (e) => e.project_id === project.id,
      );
      assert.deepEqual(
        active.map((e) => [e.id, e.status]),
        [
          [a.id, 'pending'],
          [b.id, 'running'],
        ],
      );
      assert.deepEqual(await store.executions.listByStatus([]), []);
    });

    test('latestForBadge skips pending executions and filters by branch', async () => {
      const project = await newProject();
      const make = async (branch: string, status: RunStatus) => {
        clock.advance(10);
        const e = await store.executions.create({
          project_id: project.id,
          trigger: { event: 'push', branch },
        });
        await reach(store, e.id, status);
        return e;
      };
      assert.equal(await store.executions.latestForBadge(project.id), undefined);
      const mainDone = await make('main', 'failure');
      const devRunning = await make('dev', 'running');
      await make('main', 'pending');
      assert.equal((await store.executions.latestForBadge(project.id, 'main'))?.id, mainDone.id);
      assert.equal((await store.executions.latestForBadge(project.id, 'dev'))?.id, devRunning.id);
      assert.equal((await store.executions.latestForBadge(project.id))?.id, devRunning.id);
      assert.equal(await store.executions.latestForBadge(project.id, 'other'), undefined);
    });
  });

  describe('deleteOlderThan', () => {
    test('deletes old finished executions with their rows and returns their folders', () =>
      withOwnStore(async (store) => {
        const project = await store.projects.create({ name: 'p', repo: '/src' });
        clock.advance(60_000);
        const old = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
        await store.executions.setEnded(old.id, 'success', null);
        const oldRunning = await store.executions.create({
          project_id: project.id,
          trigger: { event: 'manual' },
        });
        await store.executions.setStarted(oldRunning.id);
        await store.steps.upsert(old.id, {
          name: 'build',
          status: 'success',
          exit_code: 0,
          reason: null,
          started_at: null,
          ended_at: null,
          duration_ms: 3,
          attempts: 1,
          log: 'logs/build.log',
        });
        await store.artifacts.add(old.id, [{ step: 'build', path: 'out.txt', size: 3, sha256: 'abc' }]);
        await store.environments.record({
          execution_id: old.id,
          step: 'build',
          type: 'docker',
          container_id: 'c1',
        });
        assert.equal(await store.deliveries.claim('d-old', project.id, 'push'), true);
        await store.deliveries.attach('d-old', old.id);

        clock.advance(60_000);
        const cutoff = clock.now();
        clock.advance(1);
        const recent = await store.executions.create({
          project_id: project.id,
          trigger: { event: 'manual' },
          rerun_of: old.id,
        });
        await store.executions.setEnded(recent.id, 'failure', null);

        assert.deepEqual(await store.executions.deleteOlderThan(cutoff), [old.logs_dir]);
        assert.equal(await store.executions.get(old.id), undefined);
        assert.equal((await store.executions.get(oldRunning.id))?.status, 'running');
        assert.equal((await store.executions.get(recent.id))?.rerun_of, null);
        assert.deepEqual(await store.steps.list(old.id), []);
        assert.deepEqual(await store.artifacts.list(old.id), []);
        assert.deepEqual(await store.environments.listByExecution(old.id), []);
        assert.equal((await store.deliveries.get('d-old'))?.execution_id, null);
        assert.deepEqual(await store.executions.deleteOlderThan(cutoff), []);
      }));
  });
});
