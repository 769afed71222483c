import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExecutionManager, ExecutionManagerOptions } from '../../server/executions/manager.ts';
import { REPLAY_FIRST_ID } from '../../server/executions/stored-replay.ts';
import type { ExecutionEvent } from '../../server/executions/types.ts';
import { NotFoundError, type Project, type Store } from '../../server/store/index.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { collectEvents as collect } from './helpers/collect-events.ts';
import { openFakeManagers, warningsLogger, writePipeline } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();

interface Harness {
  store: Store;
  manager: ExecutionManager;
  warnings: string[];
  newManager(options?: Partial<ExecutionManagerOptions>): ExecutionManager;
}

async function harness(options: Partial<ExecutionManagerOptions> = {}): Promise<Harness> {
  const dataDir = await tempDir('gbcms-events-data-');
  const { logger, warnings } = warningsLogger();
  const { store, manager, newManager, close } = await openFakeManagers(dataDir, { logger, ...options });
  onCleanup(close);
  return { store, manager, warnings, newManager };
}

let projects = 0;
async function projectWith(store: Store, pipeline: string): Promise<Project> {
  const dir = await writePipeline(await tempDir('gbcms-events-src-'), pipeline);
  projects += 1;
  return store.projects.create({ name: `events-${projects}`, repo: dir });
}

function start(manager: ExecutionManager, project: Project) {
  return manager.start({
    project,
    trigger: { event: 'manual', branch: 'main' },
    source: { kind: 'project' },
  });
}

const lines = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`).join('\\n');

const TWO_STEPS = `version: 1
steps:
  first:
    image: busybox:stable
    commands: [run]
    env:
      STEP_OUTPUT: "${lines(3, 'first says')}\\n"
    artifacts: [report.txt]
  second:
    image: busybox:stable
    commands: [run]
    env:
      STEP_SLEEP_MS: "300"
      STEP_OUTPUT: "${lines(2, 'second says')}\\n"
`;

function describeEvent(e: ExecutionEvent): string {
  switch (e.type) {
    case 'status':
    case 'end':
      return `${e.id} ${e.type} ${e.execution.status}`;
    case 'step':
      return `${e.id} step ${e.step.name} ${e.step.status}`;
    case 'log':
      return `${e.id} log ${e.step} ${e.line.seq} ${e.line.text}`;
    case 'notice':
      return `${e.id} notice ${e.message}`;
    case 'artifact':
      return `${e.id} artifact ${e.artifact.path}`;
    case 'report':
      return `${e.id} report ${e.step} ${e.report.type}`;
  }
}

const summary = (events: ExecutionEvent[]) => events.map(describeEvent);

describe('execution events', () => {
  test('a live subscriber gets logs while the execution runs, numbered 1, 2, 3..., ending with end', async () => {
    const { manager, store } = await harness();
    const project = await projectWith(store, TWO_STEPS);
    const execution = await start(manager, project);
    let runningWhenFirstLogArrived: boolean | undefined;
    const events = await collect(manager, execution.id, undefined, (event) => {
      if (event.type === 'log' && runningWhenFirstLogArrived === undefined) {
        runningWhenFirstLogArrived = manager.stats().running === 1;
      }
    });
    assert.equal(runningWhenFirstLogArrived, true);
    assert.deepEqual(
      events.map((e) => e.id),
      events.map((_, i) => i + 1),
    );
    assert.equal(events[0]?.type === 'status' && events[0].execution.status, 'pending');
    assert.ok(events.some((e) => e.type === 'status' && e.execution.status === 'running'));
    const logs = events.flatMap((e) => (e.type === 'log' ? [`${e.step}: ${e.line.text}`] : []));
    assert.deepEqual(logs, [
      'first: first says 1',
      'first: first says 2',
      'first: first says 3',
      'first: artifact first/report.txt (55 bytes)',
      'second: second says 1',
      'second: second says 2',
    ]);
    assert.equal(events.filter((e) => e.type === 'artifact').length, 1);
    const end = events.at(-1);
    assert.equal(end?.type === 'end' && end.execution.status, 'success');
  });

  test('resuming with afterId during the run yields exactly the later events', async () => {
    const { manager, store } = await harness();
    const project = await projectWith(store, TWO_STEPS);
    const execution = await start(manager, project);
    const seen: ExecutionEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      let unsubscribe: (() => void) | undefined;
      manager
        .subscribe(execution.id, (event) => {
          seen.push(event);
          if (event.type === 'log' && event.step === 'first' && event.line.seq === 2) {
            unsubscribe?.();
            resolve();
          }
        })
        .then((stop) => {
          unsubscribe = stop;
        }, reject);
    });
    const last = seen.at(-1)?.id ?? 0;
    const rest = await collect(manager, execution.id, last);
    assert.equal(rest[0]?.id, last + 1);
    const whole = await collect(manager, execution.id);
    assert.deepEqual(summary([...seen, ...rest]), summary(whole));
  });

  test('right after the end, the live stream is replayed with the same ids', async () => {
    const { manager, store } = await harness();
    const project = await projectWith(store, TWO_STEPS);
    const execution = await start(manager, project);
    const live = await collect(manager, execution.id);
    const again = await collect(manager, execution.id);
    assert.deepEqual(again, live);
    const end = live.at(-1);
    assert.ok(end);
    assert.deepEqual(
      await collect(manager, execution.id, end.id),
      [end],
      'a client that saw the end gets it again',
    );
  });

  test('an ended execution is replayed from the store: status, steps, logs in step order, artifacts, end', async () => {
    const { manager, store, newManager } = await harness({ endedStreamMs: 0 });
    const project = await projectWith(store, TWO_STEPS);
    const execution = await start(manager, project);
    await collect(manager, execution.id);
    await new Promise((resolve) => setTimeout(resolve, 20));

    const replay = await collect(manager, execution.id);
    assert.deepEqual(
      summary(replay).map((line) => line.replace(/^\d+ /, '')),
      [
        'status success',
        'step first success',
        'step second success',
        'log first 1 first says 1',
        'log first 2 first says 2',
        'log first 3 first says 3',
        'log first 4 artifact first/report.txt (55 bytes)',
        'log second 1 second says 1',
        'log second 2 second says 2',
        'artifact first/report.txt',
        'end success',
      ],
    );
    assert.deepEqual(
      replay.map((e) => e.id),
      replay.map((_, i) => REPLAY_FIRST_ID + i),
    );
    assert.deepEqual(await collect(manager, execution.id), replay, 'two replays give the same ids');
    const afterRestart = await collect(newManager(), execution.id);
    assert.deepEqual(afterRestart, replay, 'a new manager on the same store replays the same');

    const fourth = replay[3];
    assert.ok(fourth);
    assert.deepEqual(await collect(manager, execution.id, fourth.id), replay.slice(4));
    const end = replay.at(-1);
    assert.ok(end);
    assert.deepEqual(await collect(manager, execution.id, end.id), [end]);
    assert.deepEqual(await collect(manager, execution.id, 5), replay, 'a live-era id gets the whole replay');
  });

  test('events that fell out of memory are rebuilt from the log files with their ids', async () => {
    const { manager, store } = await harness({ maxBufferedEvents: 5 });
    const pipeline = `version: 1
steps:
  chatty:
    image: busybox:stable
    commands: [talk]
    env:
      STEP_OUTPUT: "${lines(40, 'chatty')}\\n"
      STEP_STDERR: "${lines(10, 'oops')}\\n"
  quiet:
    image: busybox:stable
    commands: [talk]
    env:
      STEP_OUTPUT: "${lines(12, 'quiet')}\\n"
`;
    const project = await projectWith(store, pipeline);
    const execution = await start(manager, project);
    const live = await collect(manager, execution.id);
    assert.ok(live.length > 60);
    assert.deepEqual(
      live.map((e) => e.id),
      live.map((_, i) => i + 1),
    );
    // The execution has ended, but its live stream (5 events in memory) is still the one served.
    const rebuilt = await collect(manager, execution.id);
    assert.deepEqual(rebuilt, live);
    const resumed = await collect(manager, execution.id, 30);
    assert.deepEqual(resumed, live.slice(30));
  });

  test('a subscriber catching up from far behind during the run misses nothing', async () => {
    const { manager, store } = await harness({ maxBufferedEvents: 3 });
    const pipeline = `version: 1
steps:
  early:
    image: busybox:stable
    commands: [talk]
    env:
      STEP_OUTPUT: "${lines(25, 'early')}\\n"
  late:
    image: busybox:stable
    commands: [talk]
    env:
      STEP_SLEEP_MS: "300"
      STEP_OUTPUT: "${lines(5, 'late')}\\n"
`;
    const project = await projectWith(store, pipeline);
    const execution = await start(manager, project);
    const live = collect(manager, execution.id);
    await new Promise<void>((resolve, reject) => {
      manager
        .subscribe(execution.id, (event) => {
          if (event.type === 'step' && event.step.name === 'late' && event.step.status === 'running')
            resolve();
        })
        .catch(reject);
    });
    const latecomer = await collect(manager, execution.id);
    assert.deepEqual(latecomer, await live);
  });

  test('unsubscribing stops delivery; a throwing listener is dropped without harming the run', async () => {
    const { manager, store, warnings } = await harness();
    const project = await projectWith(store, TWO_STEPS);
    const execution = await start(manager, project);
    let received = 0;
    const stop = await manager.subscribe(execution.id, () => {
      received += 1;
    });
    stop();
    await manager.subscribe(execution.id, () => {
      throw new Error('viewer broke');
    });
    const events = await collect(manager, execution.id);
    assert.equal(received, 0);
    assert.equal(events.at(-1)?.type === 'end' && events.at(-1)?.type, 'end');
    assert.ok(warnings.includes('an event subscriber failed'));
    const final = await store.executions.get(execution.id);
    assert.equal(final?.status, 'success');
  });

  test('subscribing to an unknown execution throws NotFoundError', async () => {
    const { manager } = await harness();
    await assert.rejects(
      manager.subscribe('nope', () => undefined),
      NotFoundError,
    );
  });
});
