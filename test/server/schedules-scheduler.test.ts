// The scheduler loop against the real execution manager (fake backend) and a real store, with a
// clock the tests move: ticks fire on time, missed ticks fire once, and two servers on one data
// folder fire a tick once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExecutionManager } from '../../server/executions/manager.ts';
import { addSchedule } from '../../server/schedules/create.ts';
import { Scheduler } from '../../server/schedules/scheduler.ts';
import type { Execution, Project, Store } from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { FakeExecutions } from './helpers/fake-executions.ts';
import { openFakeManagers, warningsLogger, writePipeline } from './helpers/fake-managers.ts';

forEachDatabase((databases) => {
  const { tempDir, onCleanup } = cleanUpAfterAll();

  const PIPELINE = 'version: 1\nsteps:\n  hello:\n    image: alpine\n    commands: [echo hi]\n';

  /** A clock tests set by hand. */
  function manualClock(start: string) {
    let current = new Date(start);
    return {
      now: () => new Date(current),
      set(at: string) {
        current = new Date(at);
      },
    };
  }

  interface Server {
    store: Store;
    manager: ExecutionManager;
    scheduler: Scheduler;
  }

  async function openServer(dataDir: string, now: () => Date): Promise<Server> {
    const { logger, warnings } = warningsLogger();
    const opened = await openFakeManagers(
      dataDir,
      { logger, now },
      { database: await databases.database(dataDir) },
    );
    onCleanup(async () => {
      await opened.close();
      assert.deepEqual(warnings, []);
    });
    const scheduler = new Scheduler({
      store: opened.store,
      start: (request) => opened.manager.start(request),
      logger,
      now,
    });
    return { store: opened.store, manager: opened.manager, scheduler };
  }

  // Two stores in one process are not two processes: a write waiting for the other store's open
  // transaction blocks this whole thread (better-sqlite3 is synchronous), so the other never
  // finishes it. So the two "servers" here record executions (FakeExecutions: rows, nothing run)
  // and take turns at each write, as separate processes would through SQLite's lock. A barrier
  // makes both read the due schedules before either claims one: the race the claim is there for.
  let turns: Promise<unknown> = Promise.resolve();
  function inTurn<T>(action: () => Promise<T>): Promise<T> {
    const result = turns.then(action);
    turns = result.catch(() => undefined);
    return result;
  }

  function barrier(parties: number): () => Promise<void> {
    let waiting: (() => void)[] = [];
    return () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (waiting.length === parties) {
          for (const release of waiting) release();
          waiting = [];
        }
      });
  }

  async function openRecordingServer(
    dataDir: string,
    now: () => Date,
    bothRead: () => Promise<void>,
  ): Promise<Omit<Server, 'manager'>> {
    const { logger, warnings } = warningsLogger();
    const store = await databases.openStore(dataDir, { now });
    onCleanup(async () => {
      await store.close();
      assert.deepEqual(warnings, []);
    });
    const executions = new FakeExecutions(store);
    const schedules: Store['schedules'] = {
      ...store.schedules,
      async due(at) {
        const rows = await store.schedules.due(at);
        await bothRead();
        return rows;
      },
      claim: (id, due, next) => inTurn(() => store.schedules.claim(id, due, next)),
      recordRun: (id, at, executionId) => inTurn(() => store.schedules.recordRun(id, at, executionId)),
    };
    const scheduler = new Scheduler({
      store: { schedules, projects: store.projects },
      start: (request) => inTurn(() => executions.start(request)),
      logger,
      now,
    });
    return { store, scheduler };
  }

  let projects = 0;
  async function newProject(store: Store): Promise<Project> {
    projects += 1;
    const source = await writePipeline(await tempDir('gbcms-sched-src-'), PIPELINE);
    return store.projects.create({ name: `scheduled-${projects}`, repo: source });
  }

  async function cronExecutions(store: Store, project: Project): Promise<Execution[]> {
    const page = await store.executions.listByProject(project.id);
    return page.items.filter((execution) => execution.trigger_event === 'cron');
  }

  describe('the scheduler', () => {
    test('fires a tick on time, with event cron, the branch and the schedule name', async () => {
      const clock = manualClock('2026-03-01T10:01:00.000Z');
      const { store, scheduler } = await openServer(await tempDir('gbcms-sched-'), clock.now);
      const project = await newProject(store);
      const schedule = await addSchedule(
        store,
        project,
        { cron: '*/5 * * * *', branch: 'release', name: 'nightly', timezone: 'UTC' },
        clock.now(),
      );
      assert.equal(schedule.next_run_at, '2026-03-01T10:05:00.000Z');

      clock.set('2026-03-01T10:04:59.999Z');
      assert.deepEqual(await scheduler.runDue(), []);

      clock.set('2026-03-01T10:05:00.000Z');
      const fired = await scheduler.runDue();
      assert.equal(fired.length, 1);
      const execution = fired[0]?.execution;
      assert.equal(execution?.trigger_event, 'cron');
      assert.equal(execution?.ref, 'release');
      assert.equal(execution?.ref_type, 'branch');
      assert.equal(execution?.message, 'schedule nightly (*/5 * * * *, UTC)');

      const after = await store.schedules.get(schedule.id);
      assert.equal(after?.next_run_at, '2026-03-01T10:10:00.000Z');
      assert.equal(after?.last_run_at, '2026-03-01T10:05:00.000Z');
      assert.equal(after?.last_execution_id, execution?.id);
      assert.deepEqual(await scheduler.runDue(), [], 'the same tick fires once');
    });

    test('reads the expression in the schedule time zone', async () => {
      const clock = manualClock('2026-07-01T00:00:00.000Z');
      const { store } = await openServer(await tempDir('gbcms-sched-'), clock.now);
      const project = await newProject(store);
      const schedule = await addSchedule(
        store,
        project,
        { cron: '0 3 * * *', timezone: 'Europe/Paris' },
        clock.now(),
      );
      // 03:00 in Paris in summer is 01:00 UTC; no branch given: the project's default branch.
      assert.equal(schedule.next_run_at, '2026-07-01T01:00:00.000Z');
      assert.equal(schedule.branch, 'main');
    });

    test('a schedule that missed several ticks while the server was down fires once', async () => {
      const dataDir = await tempDir('gbcms-sched-');
      const clock = manualClock('2026-03-01T10:00:30.000Z');
      const { store } = await openServer(dataDir, clock.now);
      const project = await newProject(store);
      const schedule = await addSchedule(store, project, { cron: '* * * * *', timezone: 'UTC' }, clock.now());

      // Down for 37 minutes: 37 ticks missed. A new server process starts its loop.
      clock.set('2026-03-01T10:37:30.000Z');
      const restarted = await openServer(dataDir, clock.now);
      const stop = restarted.scheduler.start();
      try {
        await waitFor(async () => (await cronExecutions(store, project)).length >= 1);
        // A runDue() while the loop's pass is still under way would join it and answer with its
        // tick: stopping the loop waits for the pass to end.
        await stop();
        const fired = await restarted.scheduler.runDue();
        assert.deepEqual(fired, [], 'nothing else is due');
      } finally {
        await stop();
      }
      assert.equal((await cronExecutions(store, project)).length, 1);
      assert.equal((await store.schedules.get(schedule.id))?.next_run_at, '2026-03-01T10:38:00.000Z');
    });

    test('two servers on one data folder fire a tick once', async () => {
      const dataDir = await tempDir('gbcms-sched-');
      const clock = manualClock('2026-03-01T10:00:30.000Z');
      const bothRead = barrier(2);
      const first = await openRecordingServer(dataDir, clock.now, bothRead);
      const second = await openRecordingServer(dataDir, clock.now, bothRead);
      const project = await newProject(first.store);
      const schedules = [];
      for (let i = 0; i < 5; i++) {
        schedules.push(
          await addSchedule(first.store, project, { cron: '* * * * *', timezone: 'UTC' }, clock.now()),
        );
      }

      for (const minute of ['01', '02', '03']) {
        clock.set(`2026-03-01T10:${minute}:00.000Z`);
        // Both read the due rows before either claims them: only the claim decides.
        const [a, b] = await Promise.all([first.scheduler.runDue(), second.scheduler.runDue()]);
        assert.equal(a.length + b.length, schedules.length, `each schedule fires once at 10:${minute}`);
      }
      assert.equal((await cronExecutions(first.store, project)).length, 3 * schedules.length);
    });

    test('the claim is a compare-and-set: one caller wins a tick', async () => {
      const clock = manualClock('2026-03-01T10:00:30.000Z');
      const { store } = await openServer(await tempDir('gbcms-sched-'), clock.now);
      const project = await newProject(store);
      const schedule = await addSchedule(store, project, { cron: '* * * * *', timezone: 'UTC' }, clock.now());
      const due = schedule.next_run_at ?? '';
      const next = '2026-03-01T10:02:00.000Z';
      assert.equal(await store.schedules.claim(schedule.id, due, next), true);
      assert.equal(await store.schedules.claim(schedule.id, due, next), false);
    });

    test('a tick of a deleted schedule does not fire', async () => {
      const clock = manualClock('2026-03-01T10:00:30.000Z');
      const { store, scheduler } = await openServer(await tempDir('gbcms-sched-'), clock.now);
      const project = await newProject(store);
      const schedule = await addSchedule(store, project, { cron: '* * * * *', timezone: 'UTC' }, clock.now());
      assert.equal(await store.schedules.remove(project.id, schedule.id), true);
      clock.set('2026-03-01T10:05:00.000Z');
      assert.deepEqual(await scheduler.runDue(), []);
    });
  });

  /** Polls `condition`; the bound is only there to turn a hang into a failure. */
  async function waitFor(condition: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 2000; i++) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('condition not met');
  }
});
