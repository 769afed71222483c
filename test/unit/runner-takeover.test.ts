// A server following a runner's execution keeps where it stands after every batch; a server
// taking the execution over (its first one died) cuts the logs back to that and takes the
// runner's events again from there: every line once. Its live stream goes on after the dead
// server's last event id.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunEvent } from '../../engine/events.ts';
import type { StepRecord } from '../../engine/run-record.ts';
import { EventStream } from '../../server/executions/event-stream.ts';
import { StreamRegistry } from '../../server/executions/stream-registry.ts';
import type { ExecutionEvent } from '../../server/executions/types.ts';
import type { RemoteRunRequest } from '../../server/runners/remote-dispatch.ts';
import { RemoteRun, type RemoteSnapshot } from '../../server/runners/remote-run.ts';
import { cutLogsBack } from '../../server/runners/runner-state.ts';
import { keepingAfterBatches, keepOutsideBatches } from '../../server/runners/successor-keeping.ts';
import { openStore } from '../../server/store/index.ts';

const step: StepRecord = {
  name: 'build',
  status: 'running',
  exit_code: null,
  reason: null,
  started_at: '2026-12-05T10:00:00.000Z',
  ended_at: null,
  duration_ms: null,
  attempts: 1,
  log: 'logs/build.log',
};

/** A live stream for these tests: no log files behind it, and a failing subscriber fails the test. */
function newStream(maxBuffered?: number): EventStream {
  return new EventStream({
    maxBuffered,
    logFile: () => undefined,
    onListenerError: (error) => assert.fail(String(error)),
  });
}

function line(seq: number): RunEvent {
  return {
    type: 'log',
    step: 'build',
    line: { seq, time: '2026-12-05T10:00:01.000Z', stream: 'stdout', text: `line ${seq}` },
  };
}

function lines(from: number, to: number): RunEvent[] {
  const events: RunEvent[] = [];
  for (let seq = from; seq <= to; seq++) events.push(line(seq));
  return events;
}

test('a successor cuts the logs back to the last snapshot and takes the events again from there', async () => {
  const runDir = await mkdtemp(join(tmpdir(), 'gbcms-takeover-'));
  try {
    const snapshots: RemoteSnapshot[] = [];
    const first = new RemoteRun('x', runDir, () => undefined, {
      persist: async (snapshot) => {
        snapshots.push(structuredClone(snapshot));
      },
    });
    // Event 0 is the run (its steps name their log files); events 1..10 lines 1..10, then 11..15.
    const run = { type: 'run', run: { id: 'x', status: 'running', steps: [step] } } as unknown as RunEvent;
    assert.equal(await first.accept(0, [run, ...lines(1, 10)]), 11);
    assert.equal(await first.accept(11, lines(11, 15)), 16);
    const kept = snapshots.at(-1);
    assert.ok(kept);
    assert.equal(kept.received, 16);
    // The first server took a batch, wrote its lines, and died before it kept the snapshot.
    await new RemoteRun('x', runDir, () => undefined, { resume: kept }).accept(16, lines(16, 18));
    await cutLogsBack(runDir, kept.logBytes);

    const observed: RunEvent[] = [];
    const successor = new RemoteRun('x', runDir, (event) => observed.push(event), { resume: kept });
    // The runner was never told batch 16.. was taken: it sends from its last answer, 11.
    assert.equal(await successor.accept(11, lines(11, 20)), 21);
    const texts = (await readFile(join(runDir, 'logs/build.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((record) => (JSON.parse(record) as { text: string }).text);
    assert.deepEqual(
      texts,
      Array.from({ length: 20 }, (_, index) => `line ${index + 1}`),
    );
    assert.deepEqual(
      observed.map((event) => (event.type === 'log' ? event.line.seq : -1)),
      [16, 17, 18, 19, 20],
    );
    // The steps stand as kept: a lost runner ends the running one.
    await successor.lost('r1');
    assert.equal((await successor.outcome).reason, 'runner lost: r1');
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
});

test("a stream taken over goes on after the dead server's last id; earlier ids are not given again", async () => {
  const stream = newStream();
  stream.continueAfter(500);
  assert.equal(stream.lastId, 500);
  const fromBefore: ExecutionEvent[] = [];
  const fromLast: ExecutionEvent[] = [];
  stream.subscribe((event) => fromBefore.push(event), 120);
  stream.subscribe((event) => fromLast.push(event), 500);
  stream.publish({ type: 'notice', message: 'server b follows the run on' });
  stream.publish({ type: 'notice', message: 'and on' });
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  for (const got of [fromBefore, fromLast])
    assert.deepEqual(
      got.map((event) => event.id),
      [501, 502],
    );
});

test('a subscriber arriving while executions are taken up waits for the live stream, not a replay', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-takeup-'));
  const store = await openStore(dir);
  try {
    const project = await store.projects.create({ name: 'p', repo: '/srv/p.git' });
    const execution = await store.executions.create({
      project_id: project.id,
      trigger: { event: 'api', branch: 'main' },
    });
    await store.executions.setStarted(execution.id);
    const registry = new StreamRegistry({
      store,
      dataDir: dir,
      logger: { info() {}, warn() {}, error() {} },
    });
    // The execution is this server's in the database; its stream opens later in the take-up.
    let finish!: () => void;
    const takeUp = registry.takingUp(new Promise<void>((resolve) => (finish = resolve)));
    const got: ExecutionEvent[] = [];
    const subscribed = registry.subscribe(execution.id, (event) => got.push(event), 500);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stream = registry.open(execution.id, () => undefined);
    stream.continueAfter(500);
    finish();
    await takeUp;
    await subscribed;
    stream.publish({ type: 'notice', message: 'followed on' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      got.map((event) => [event.id, event.type]),
      [[501, 'notice']],
      'the live stream after the last id, not a replay from the store',
    );
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('events published while held reach subscribers only at the release, once and in order', async () => {
  const stream = newStream();
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  stream.publish({ type: 'notice', message: 'one' });
  const early: number[] = [];
  stream.subscribe((event) => early.push(event.id));
  await turn();
  const release = stream.hold();
  stream.publish({ type: 'notice', message: 'two' });
  stream.publish({ type: 'notice', message: 'three' });
  const late: number[] = [];
  stream.subscribe((event) => late.push(event.id));
  await turn();
  await turn();
  assert.deepEqual(early, [1], 'a live subscriber gets nothing held');
  assert.deepEqual(late, [1], 'a new one catches up only to what is not held');
  assert.equal(stream.lastId, 3, 'the held events are numbered (the id a successor goes on after)');
  release();
  release();
  stream.publish({ type: 'notice', message: 'four' });
  await turn();
  await turn();
  assert.deepEqual(early, [1, 2, 3, 4]);
  assert.deepEqual(late, [1, 2, 3, 4]);
});

test('a runner batch is kept, with the stream id after it, before any page sees it', async () => {
  const runDir = await mkdtemp(join(tmpdir(), 'gbcms-hold-'));
  try {
    const stream = newStream();
    const seen: number[] = [];
    stream.subscribe((event) => seen.push(event.id));
    await new Promise((resolve) => setImmediate(resolve));
    const kept: { streamId: number; seenThen: number }[] = [];
    const remote = new RemoteRun(
      'x',
      runDir,
      (event) => stream.publish({ type: 'notice', message: event.type === 'log' ? event.line.text : '' }),
      {
        hold: () => stream.hold(),
        persist: async () => {
          kept.push({ streamId: stream.lastId, seenThen: seen.length });
        },
      },
    );
    const run = { type: 'run', run: { id: 'x', status: 'running', steps: [step] } } as unknown as RunEvent;
    assert.equal(await remote.accept(0, [run, ...lines(1, 3)]), 4);
    assert.deepEqual(kept, [{ streamId: 4, seenThen: 0 }], 'kept with id 4 before a page saw any');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, [1, 2, 3, 4]);
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
});

test("a successor's stream gives a page behind by a few the dead server's latest events, whole", async () => {
  const dead = newStream();
  for (let i = 1; i <= 10; i++) dead.publish({ type: 'notice', message: `event ${i}` });
  // The page received up to 7 when that server died, the state kept up to 10 with its tail.
  const tail = dead.recent(5);
  assert.deepEqual(
    tail.map((event) => event.id),
    [6, 7, 8, 9, 10],
  );
  const successor = newStream(3);
  successor.continueAfter(10, JSON.parse(JSON.stringify(tail)) as ExecutionEvent[]);
  const page: string[] = [];
  successor.subscribe((event) => page.push(`${event.id} ${event.type === 'notice' ? event.message : ''}`), 7);
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  await turn();
  successor.publish({ type: 'notice', message: 'followed on' });
  await turn();
  await turn();
  assert.deepEqual(page, ['8 event 8', '9 event 9', '10 event 10', '11 followed on']);

  const broken = newStream();
  broken.continueAfter(10, tail.slice(0, 3)); // not ending at 10: not taken
  const other: number[] = [];
  broken.subscribe((event) => other.push(event.id), 7);
  broken.publish({ type: 'notice', message: 'followed on' });
  await turn();
  await turn();
  assert.deepEqual(other, [11]);
});

test('with a keeper, no event reaches a page before it is kept, whoever published it', async () => {
  const stream = newStream();
  const seen: number[] = [];
  stream.subscribe((event) => seen.push(event.id));
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  await turn();
  const keeps: { upTo: number; settle: (ok: boolean) => void }[] = [];
  stream.keepEachWith(
    () =>
      new Promise<void>((resolve, reject) => {
        keeps.push({
          upTo: stream.lastId,
          settle: (ok) => (ok ? resolve() : reject(new Error('disk full'))),
        });
      }),
  );
  const settle = async (ok = true) => {
    keeps.at(-1)?.settle(ok);
    await turn();
    await turn();
  };

  stream.publish({ type: 'notice', message: 'from outside' });
  await turn();
  assert.deepEqual([seen, keeps.map((k) => k.upTo)], [[], [1]]);
  await settle();
  assert.deepEqual(seen, [1]);

  // A batch: its holder kept up to 2; 3 came from outside after that, so it is kept again.
  const release = stream.hold();
  stream.publish({ type: 'notice', message: 'batch' });
  stream.markKept(2);
  stream.publish({ type: 'notice', message: 'slipped in' });
  release();
  await turn();
  assert.deepEqual([seen, keeps.map((k) => k.upTo)], [[1], [1, 3]]);
  await settle();
  assert.deepEqual(seen, [1, 2, 3]);

  // What comes while a keep is under way waits for one more.
  stream.publish({ type: 'notice', message: 'four' });
  stream.publish({ type: 'notice', message: 'five' });
  await turn();
  stream.publish({ type: 'notice', message: 'six' });
  await settle();
  assert.deepEqual(
    [seen, keeps.map((k) => k.upTo)],
    [
      [1, 2, 3],
      [1, 3, 4, 6],
    ],
  );
  // A keep that fails shows the events all the same (the keeper logs why).
  await settle(false);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);

  stream.keepEachWith(undefined);
  stream.publish({ type: 'notice', message: 'unkept' });
  await turn();
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
});

test("a runner's run keeps its stream id on disk before a page sees any event, batch or not", async () => {
  const runDir = await mkdtemp(join(tmpdir(), 'gbcms-keeping-'));
  try {
    const stream = newStream();
    // What a page sees, with the stream id the state file held at that moment.
    const seen: { id: number; kept: number }[] = [];
    const keptNow = () => {
      try {
        return (JSON.parse(readFileSync(join(runDir, 'runner-state.json'), 'utf8')) as { streamId: number })
          .streamId;
      } catch {
        return -1;
      }
    };
    stream.subscribe((event) => seen.push({ id: event.id, kept: keptNow() }));
    const request = {
      execution: { id: 'x' },
      plan: { steps: [] },
      runDir,
      stream,
    } as unknown as RemoteRunRequest;
    const remote: RemoteRun = new RemoteRun(
      'x',
      runDir,
      (event) => stream.publish({ type: 'notice', message: event.type === 'log' ? event.line.text : '' }),
      keepingAfterBatches(request, () => remote),
    );
    remote.runner = 'r1';
    remote.leaseId = 'lease';
    const quiet = { info() {}, warn() {}, error: (_: object, message: string) => assert.fail(message) };
    const stopKeeping = keepOutsideBatches(request, remote, quiet);
    // Forge status notices come from outside while batches are taken.
    const batches = [remote.accept(0, lines(1, 50))];
    stream.publish({ type: 'notice', message: 'status posted' });
    batches.push(remote.accept(50, lines(51, 100)));
    stream.publish({ type: 'notice', message: 'status posted again' });
    await Promise.all(batches);
    await remote.keep();
    stopKeeping();
    for (let i = 0; i < 10 && seen.length < 102; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      seen.map((s) => s.id),
      Array.from({ length: 102 }, (_, i) => i + 1),
    );
    const early = seen.filter((s) => s.kept < s.id);
    assert.deepEqual(early, [], 'events a page saw before the state file held their id');
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
});
