// The moment between a server making a runner's execution its own in the database (restarted,
// or taking over a dead server's) and following the run again: the runner's calls of that moment
// wait for it rather than hear the execution is not theirs (which would stop the run), and stop
// waiting as soon as it ends or goes to another runner.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compilePlan } from '../../engine/compile/compiler.ts';
import type { RunEvent } from '../../engine/events.ts';
import { Members } from '../../server/cluster/members.ts';
import type { ExecutionLogger } from '../../server/executions/logger.ts';
import { RunnerHub } from '../../server/runners/hub.ts';
import { MemoryWorkQueue } from '../../server/runners/memory-queue.ts';
import type { HandedLease } from '../../server/runners/work-queue.ts';
import { openStore, type Runner, type Store } from '../../server/store/index.ts';

const quiet: ExecutionLogger = { info() {}, warn() {}, error() {} };

const line: RunEvent = {
  type: 'log',
  step: 'build',
  line: { seq: 1, time: '2026-12-06T10:00:00.000Z', stream: 'stdout', text: 'hello' },
};

/** A MemoryWorkQueue whose adoption of a lease waits for `gate` (a busy Redis, say). */
class SlowAdoption extends MemoryWorkQueue {
  readonly #gate: Promise<void>;

  constructor(gate: Promise<void>, options: ConstructorParameters<typeof MemoryWorkQueue>[0]) {
    super(options);
    this.#gate = gate;
  }

  override async adopt(lease: HandedLease): Promise<boolean> {
    await this.#gate;
    return super.adopt(lease);
  }
}

/** A store with one running execution held by runner r1, and a hub that does not follow it yet. */
async function setUp(
  t: { after(fn: () => Promise<void>): void },
  /** Several servers (this one B), the lease adopted only once `adoptGate` settles. */
  cluster?: { adoptGate: Promise<void> },
) {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-arrival-'));
  await mkdir(join(dir, 'run'));
  const store: Store = await openStore(dir);
  const queue = cluster
    ? new SlowAdoption(cluster.adoptGate, { leaseMs: 60_000, sweepMs: 60_000 })
    : new MemoryWorkQueue({ leaseMs: 60_000, sweepMs: 60_000 });
  const members = cluster
    ? new Members({
        store,
        name: 'B',
        version: 'test',
        alone: false,
        onError: (error) => assert.fail(String(error)),
        onNameClash: () => assert.fail('name clash'),
      })
    : undefined;
  const hub = new RunnerHub({ store, queue, mode: 'runners', logger: quiet, members, dataDir: dir });
  t.after(async () => {
    await hub.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const project = await store.projects.create({ name: 'p', repo: '/srv/p.git' });
  const execution = await store.executions.create({
    project_id: project.id,
    trigger: { event: 'api', branch: 'main' },
  });
  await store.executions.setStarted(execution.id);
  await store.runners.create({ name: 'r1', labels: [] });
  await store.runners.create({ name: 'r2', labels: [] });
  await store.runners.assignExecution(execution.id, 'r1');
  const runner = async (name: string) => (await store.runners.byName(name)) as Runner;

  // The lease r1 holds, as a server that died handed it on (runner-state.ts keeps it so).
  await queue.enqueue({ executionId: execution.id, labels: [] });
  const [lease] = await queue.claim({ name: 'r1', labels: [] }, 1, 0);
  assert.ok(lease);
  const handed = await queue.handOver(lease.id);
  assert.ok(handed);

  const controller = new AbortController();
  const resume = async () =>
    hub.resume(
      {
        execution: (await store.executions.get(execution.id)) ?? execution,
        projectName: 'p',
        plan: compilePlan(
          { version: 1, steps: { build: { image: 'busybox', commands: ['true'] } } },
          { file: '.gbcms.yml', workspace: dir, trigger: { event: 'api' } },
        ),
        workspace: dir,
        runDir: join(dir, 'run'),
        secrets: {},
        secretRefusals: {},
        cacheScope: 'p',
        env: {},
        signal: controller.signal,
        observe: () => undefined,
        onWaiting: () => undefined,
      },
      { lease: handed, runner: 'r1', received: 0, steps: [], logBytes: {}, streamId: 0 },
    );
  return { store, hub, execution, runner, resume };
}

test("a runner's events sent before its server follows the run again wait and are taken", async (t) => {
  const { hub, execution, runner, resume } = await setUp(t);
  const r1 = await runner('r1');
  let answered = false;
  const events = hub.events(r1, execution.id, { from: 0, events: [line] }).finally(() => {
    answered = true;
  });
  const source = hub.folders(r1, execution.id);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(answered, false, 'answered before the server follows the run');

  const outcome = resume();
  assert.equal(await events, 1, 'the batch is taken once the run is followed');
  assert.ok(await source, 'the source is served too');
  assert.equal(await hub.finish(r1, execution.id, { status: 'success', reason: null, events: 1 }), true);
  assert.deepEqual(await outcome, { status: 'success', reason: null });
});

test('the wait ends at once for another runner, and when the execution ends', async (t) => {
  const { store, hub, execution, runner } = await setUp(t);
  assert.equal(await hub.events(await runner('r2'), execution.id, { from: 0, events: [line] }), undefined);

  const waiting = hub.events(await runner('r1'), execution.id, { from: 0, events: [line] });
  await store.executions.setEnded(execution.id, 'error', 'runner lost: r1');
  assert.equal(await waiting, undefined, 'an ended execution holds no lease');
});

test('a heartbeat that comes while the lease is being adopted is not told the run is lost', async (t) => {
  let adopt!: () => void;
  const adoptGate = new Promise<void>((resolve) => (adopt = resolve));
  const { hub, execution, runner, resume } = await setUp(t, { adoptGate });
  const r1 = await runner('r1');
  const outcome = resume();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(await hub.heartbeat(r1, [execution.id]), { lost: [], cancel: [] });
  adopt();
  assert.equal(await hub.events(r1, execution.id, { from: 0, events: [line] }), 1);
  assert.deepEqual(await hub.heartbeat(r1, [execution.id]), { lost: [], cancel: [] });
  assert.equal(await hub.finish(r1, execution.id, { status: 'success', reason: null, events: 1 }), true);
  assert.deepEqual(await outcome, { status: 'success', reason: null });
});
