// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use the ${{ NAME }} syntax
// Concurrency groups: the in-memory turns (engine/concurrency-groups.ts), the group names the
// compiler fills in, `gbcms plan`'s lines, and a run whose matrix combinations take turns.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeBackend } from '../../engine/backends/fake.ts';
import { formatPlan } from '../../engine/cli/plan.ts';
import { compilePlan } from '../../engine/compile/compiler.ts';
import { ConcurrencyGroups, type Entry, type Lease } from '../../engine/concurrency-groups.ts';
import type { PipelineFile } from '../../engine/config/pipeline-file.generated.ts';
import type { RunEvent } from '../../engine/events.ts';
import { runPipeline, type StepGroups } from '../../engine/run.ts';
import { beforeHang } from '../helpers/hang.ts';
import { planOf, tempDir } from '../helpers/plans.ts';
import { pollUntil } from '../helpers/poll.ts';

const member = (age: number) => ({ age, label: `execution #${age}` });

function leaseOf(entry: Entry): Lease {
  assert.ok('lease' in entry, `expected a lease, got ${JSON.stringify(entry)}`);
  return entry.lease;
}

/** Whether the promise has settled, after everything already queued has run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('concurrency groups: turns', () => {
  test('members hold a group one at a time, oldest waiter first, whatever order they asked in', async () => {
    const groups = new ConcurrencyGroups();
    const waits: string[] = [];
    const first = leaseOf(await groups.enter('g', 'g', member(1), { cancelInProgress: false }));
    const third = groups.enter('g', 'g', member(3), {
      cancelInProgress: false,
      waiting: (holder) => waits.push(`3 waits for ${holder.label}`),
    });
    const second = groups.enter('g', 'g', member(2), { cancelInProgress: false });
    assert.equal(await settled(third), false);
    assert.equal(await settled(second), false);
    first.release();
    const secondLease = leaseOf(await second);
    assert.equal(await settled(third), false);
    // Releasing twice lets no one else in.
    first.release();
    assert.equal(await settled(third), false);
    secondLease.release();
    leaseOf(await third).release();
    assert.deepEqual(waits, ['3 waits for execution #1', '3 waits for execution #2']);
    assert.equal(groups.size, 0);
  });

  test('other groups do not wait', async () => {
    const groups = new ConcurrencyGroups();
    const a = leaseOf(await groups.enter('a', 'a', member(1), { cancelInProgress: false }));
    const b = leaseOf(await groups.enter('b', 'b', member(2), { cancelInProgress: false }));
    a.release();
    b.release();
    assert.equal(groups.size, 0);
  });

  test('cancel_in_progress: a newer member cancels the holder and older waiters, then takes its turn', async () => {
    const groups = new ConcurrencyGroups();
    const holder = leaseOf(await groups.enter('g', 'deploy-main', member(11), { cancelInProgress: false }));
    const waiting = groups.enter('g', 'deploy-main', member(12), { cancelInProgress: false });
    const newest = groups.enter('g', 'deploy-main', member(13), { cancelInProgress: true });
    assert.deepEqual(await waiting, {
      cancelled: 'cancelled by execution #13 in concurrency group deploy-main',
    });
    assert.equal(holder.cancelled.aborted, true);
    assert.equal(holder.cancelled.reason, 'cancelled by execution #13 in concurrency group deploy-main');
    // The holder ends on its own (its containers go first); only then is it the newer one's turn.
    assert.equal(await settled(newest), false);
    holder.release();
    const lease = leaseOf(await newest);
    assert.equal(lease.cancelled.aborted, false);
    lease.release();
  });

  test('cancel_in_progress: an older member arriving after a newer one is stale and cancelled at once', async () => {
    const groups = new ConcurrencyGroups();
    const newer = leaseOf(await groups.enter('g', 'g', member(5), { cancelInProgress: true }));
    assert.deepEqual(await groups.enter('g', 'g', member(4), { cancelInProgress: true }), {
      cancelled: 'cancelled by execution #5 in concurrency group g',
    });
    assert.equal(newer.cancelled.aborted, false);
    newer.release();
    assert.equal(groups.size, 0);
  });

  test('members of one age (steps of one run) wait for each other and never cancel each other', async () => {
    const groups = new ConcurrencyGroups();
    const a = leaseOf(await groups.enter('g', 'g', member(0), { cancelInProgress: true }));
    const b = groups.enter('g', 'g', member(0), { cancelInProgress: true });
    assert.equal(await settled(b), false);
    assert.equal(a.cancelled.aborted, false);
    a.release();
    leaseOf(await b).release();
  });

  test('a waiter whose signal aborts leaves the line with the reason', async () => {
    const groups = new ConcurrencyGroups();
    const holder = leaseOf(await groups.enter('g', 'g', member(1), { cancelInProgress: false }));
    const controller = new AbortController();
    const waiting = groups.enter('g', 'g', member(2), { cancelInProgress: false, signal: controller.signal });
    controller.abort('terminated by user');
    assert.deepEqual(await waiting, { cancelled: 'terminated by user' });
    holder.release();
    assert.equal(groups.size, 0);
  });
});

describe('concurrency groups: compile and plan', () => {
  const config: PipelineFile = {
    version: 1,
    name: 'shop',
    concurrency: { group: 'deploy-${{ branch }}-${{event}}', cancel_in_progress: true },
    schedules: [
      { name: 'nightly', cron: '0 3 * * *', branch: 'main' },
      { name: 'weekly', cron: '@weekly' },
    ],
    steps: {
      test: {
        image: 'busybox:stable',
        commands: ['x'],
        matrix: { node: [18, 20] },
        concurrency: { group: 'db-${{ matrix.node }}-${{ tag }}-${{ commit }}-${{ pipeline }}' },
      },
    },
  };
  const plan = compilePlan(config, {
    file: '.gbcms.yml',
    workspace: tempDir(),
    trigger: { event: 'push', branch: 'main', commit: 'abc123' },
  });

  test('groups are filled from the trigger and the combination; a missing tag is empty', () => {
    assert.deepEqual(plan.concurrency, { group: 'deploy-main-push', cancelInProgress: true });
    assert.deepEqual(
      plan.steps.map((s) => s.concurrency),
      [
        { group: 'db-18--abc123-shop', cancelInProgress: false },
        { group: 'db-20--abc123-shop', cancelInProgress: false },
      ],
    );
    assert.deepEqual(plan.schedules, [
      { name: 'nightly', cron: '0 3 * * *', branch: 'main' },
      { name: 'weekly', cron: '@weekly' },
    ]);
  });

  test('gbcms plan shows the groups and the schedules', () => {
    const text = formatPlan(plan);
    assert.match(
      text,
      /\nexecutions run one at a time in concurrency group deploy-main-push; a newer execution cancels an older one\n/,
    );
    assert.match(
      text,
      /test \(node=18\) \(busybox:stable\) {2}steps run one at a time in concurrency group db-18--abc123-shop\n/,
    );
    assert.match(
      text,
      /\nschedule nightly: 0 3 \* \* \* \(the server's zone\) on main, run by the server with event cron\n/,
    );
    assert.match(text, /\nschedule weekly: @weekly \(the server's zone\) on the default branch, run by/);
  });
});

describe('concurrency groups: a run', () => {
  test("a step's matrix combinations take turns; another step runs beside them", async () => {
    const plan = planOf({
      deploy: {
        image: 'busybox:stable',
        commands: ['x'],
        matrix: { env: ['a', 'b', 'c'] },
        env: { STEP_SLEEP_MS: '50' },
        concurrency: { group: 'deploy', cancel_in_progress: true },
      },
      lint: { image: 'busybox:stable', commands: ['x'], depends_on: [], env: { STEP_SLEEP_MS: '200' } },
    });
    const backend = new FakeBackend();
    const events: RunEvent[] = [];
    const record = await beforeHang(
      runPipeline(plan, { backend, runsDir: tempDir(), concurrency: 4, observer: (e) => events.push(e) }),
      'the run',
    );
    assert.equal(record.status, 'success');
    // Each combination starts only once the one before it ended.
    const deploys = backend.calls.filter((call) => /^(start|destroy) deploy/.test(call));
    const expected = ['a', 'b', 'c'].flatMap((env) => [
      `start deploy (env=${env})`,
      `destroy deploy (env=${env})`,
    ]);
    assert.deepEqual(deploys, expected);
    assert.ok(backend.maxConcurrent <= 2);
    const waited = events.flatMap((e) =>
      e.type === 'step' && e.step.reason?.startsWith('waiting for') ? [e.step.reason] : [],
    );
    assert.ok(
      waited.includes("waiting for step 'deploy (env=a)' in concurrency group deploy"),
      waited.join('\n'),
    );
  });
});

describe('concurrency groups: runs sharing groups (as on the server)', () => {
  const shared = new ConcurrencyGroups();
  const groupsOf = (run: number): StepGroups => ({
    groups: shared,
    key: (group) => `project\0${group}`,
    member: (step) => ({ age: run, label: `step '${step.name}' of execution #${run}` }),
  });
  const plan = (sleepMs: number) =>
    planOf({
      deploy: {
        image: 'busybox:stable',
        commands: ['x'],
        env: { STEP_SLEEP_MS: String(sleepMs) },
        concurrency: { group: 'deploy', cancel_in_progress: true },
      },
      after: { image: 'busybox:stable', commands: ['x'] },
    });

  test("a newer run cancels the older run's step while it runs: killed, the reason naming the newer", async () => {
    const backend = new FakeBackend();
    // Only a hang would let the first step sleep this long: the second run cancels it first.
    const older = runPipeline(plan(3_600_000), { backend, runsDir: tempDir(), stepGroups: groupsOf(1) });
    await pollUntil('the older step running', () => backend.calls.includes('start deploy'));
    const newer = runPipeline(plan(0), { backend, runsDir: tempDir(), stepGroups: groupsOf(2) });
    const [olderRecord, newerRecord] = await beforeHang(Promise.all([older, newer]), 'both runs');
    const killed = olderRecord.steps.find((s) => s.name === 'deploy');
    assert.equal(killed?.status, 'killed');
    assert.equal(killed?.reason, "cancelled by step 'deploy' of execution #2 in concurrency group deploy");
    assert.equal(olderRecord.steps.find((s) => s.name === 'after')?.status, 'skipped');
    assert.equal(newerRecord.status, 'success');
    // The newer step started only once the older one was gone.
    const calls = backend.calls.filter((call) => / deploy$/.test(call));
    assert.deepEqual(calls, [
      'start deploy',
      'end deploy',
      'destroy deploy',
      'start deploy',
      'end deploy',
      'destroy deploy',
    ]);
    assert.equal(shared.size, 0);
  });
});
