// The moment between a server making a runner's execution its own in the database (restarted,
// or taking over a dead server's) and following the run again: the runner's calls of that moment
// wait for it rather than hear the execution is not theirs (which would stop the run), and stop
// waiting as soon as it ends or goes to another runner.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compilePlan } from '../../engine/compile/compiler.ts';
import type { RunEvent } from '../../engine/events.ts';
import type { ExecutionLogger } from '../../server/executions/logger.ts';
import { RunnerHub } from '../../server/runners/hub.ts';
import { MemoryWorkQueue } from '../../server/runners/memory-queue.ts';
import { openStore, type Runner, type Store } from '../../server/store/index.ts';

const quiet: ExecutionLogger = { info() {}, warn() {}, error() {} };

const line: RunEvent = {
  type: 'log',
  step: 'build',
  line: { seq: 1, time: '2026-12-06T10:00:00.000Z', stream: 'stdout', text: 'hello' },
};

/** A store with one running execution held by runner r1, and a hub that does not follow it yet. */
async function setUp(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-arrival-'));
  const store: Store = await openStore(dir);
  const queue = new MemoryWorkQueue({ leaseMs: 60_000, sweepMs: 60_000 });
  const hub = new RunnerHub({ store, queue, mode: 'runners', logger: quiet });
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
