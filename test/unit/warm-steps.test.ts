// Which steps the scheduler starts ahead of their turn (engine/warm-steps.ts), and that each
// prepared environment is either handed to its step or discarded, never both, never neither.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PreparedStep } from '../../engine/backends/types.ts';
import type { PlannedStep } from '../../engine/plan.ts';
import { schedule } from '../../engine/scheduler.ts';
import type { StepOutcome } from '../../engine/step-runner.ts';
import { planOf } from '../helpers/plans.ts';

const image = 'busybox:stable';

function outcome(status: StepOutcome['status']): StepOutcome {
  return { status, exitCode: status === 'success' ? 0 : 1, reason: null, attempts: 1, artifacts: [] };
}

/** A scheduler run whose steps end as `ends` says, once `release(name)` lets them. */
function harness(steps: Parameters<typeof planOf>[0], options: { concurrency: number; fail?: string[] }) {
  const plan = planOf(steps);
  const events: string[] = [];
  const gates = new Map<string, () => void>();
  const waiting = new Map<string, Promise<void>>();
  const warmNow = new Set<string>();
  let mostWarm = 0;
  const controller = new AbortController();
  const finish = (name: string) => gates.get(name)?.();
  const gateOf = (name: string) => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    gates.set(name, open);
    waiting.set(name, gate);
    return gate;
  };
  const prepareStep = async (step: PlannedStep): Promise<PreparedStep> => {
    events.push(`prepare ${step.name}`);
    warmNow.add(step.name);
    mostWarm = Math.max(mostWarm, warmNow.size);
    return {
      release: async () => {
        warmNow.delete(step.name);
        events.push(`release ${step.name}`);
      },
      discard: async () => {
        warmNow.delete(step.name);
        events.push(`discard ${step.name}`);
      },
    };
  };
  const done = schedule(plan.steps, {
    concurrency: options.concurrency,
    signal: controller.signal,
    prepareStep,
    passGate: async () => undefined,
    // These plans have no concurrency groups: nothing waits for a turn or is cancelled.
    enterGroup: async (step) => {
      throw new Error(`step '${step.name}' has no concurrency group`);
    },
    killStep: (step) => {
      throw new Error(`step '${step.name}' is in no group that could cancel it`);
    },
    skipStep: (step) => {
      events.push(`skip ${step.name}`);
      return outcome('skipped');
    },
    runStep: async (step, prepared) => {
      const handle = await prepared;
      if (handle) await handle.release();
      events.push(`run ${step.name}${handle ? ' warm' : ''}`);
      await gateOf(step.name);
      return outcome(options.fail?.includes(step.name) ? 'failure' : 'success');
    },
  });
  const started = async (name: string) => {
    while (!waiting.has(name)) await new Promise((resolve) => setImmediate(resolve));
  };
  const discarded = async (count: number) => {
    while (events.filter((e) => e.startsWith('discard')).length < count)
      await new Promise((resolve) => setImmediate(resolve));
  };
  return { events, finish, started, discarded, done, controller, mostWarm: () => mostWarm, warmNow };
}

function chain(length: number, extra: Record<string, object> = {}) {
  return Object.fromEntries(
    Array.from({ length }, (_, i) => [
      `s${i}`,
      {
        image,
        commands: ['x'] as [string],
        ...(i === 0 ? {} : { depends_on: [`s${i - 1}`] }),
        ...extra[`s${i}`],
      },
    ]),
  );
}

describe('steps prepared ahead of their turn', () => {
  test('a chain: each step is prepared while the one before runs, and runs warm', async () => {
    const h = harness(chain(4), { concurrency: 1 });
    for (const name of ['s0', 's1', 's2', 's3']) {
      await h.started(name);
      h.finish(name);
    }
    await h.done;
    assert.deepEqual(
      h.events.filter((e) => e.startsWith('run')),
      ['run s0', 'run s1 warm', 'run s2 warm', 'run s3 warm'],
    );
    // Never more waiting at once than the run's concurrency.
    assert.equal(h.mostWarm(), 1);
    assert.ok(h.events.indexOf('prepare s1') < h.events.indexOf('run s1 warm'));
    assert.equal(h.events.filter((e) => e.startsWith('discard')).length, 0);
  });

  test('as many wait as the concurrency allows, the next ones as places free up', async () => {
    const h = harness(chain(5), { concurrency: 2 });
    await h.started('s0');
    // s1 waits warm, and counts as going: s2 after it, then no more.
    assert.deepEqual([...h.warmNow].sort(), ['s1', 's2']);
    for (const name of ['s0', 's1', 's2', 's3', 's4']) {
      await h.started(name);
      h.finish(name);
    }
    await h.done;
    assert.equal(h.mostWarm(), 2);
    assert.deepEqual(
      h.events.filter((e) => e.startsWith('run')),
      ['run s0', 'run s1 warm', 'run s2 warm', 'run s3 warm', 'run s4 warm'],
    );
  });

  test('a failed dependency discards what was prepared after it; nothing is released', async () => {
    const h = harness(chain(3), { concurrency: 2, fail: ['s0'] });
    await h.started('s0');
    h.finish('s0');
    await h.done;
    assert.deepEqual(h.events.filter((e) => !e.startsWith('prepare')).sort(), [
      'discard s1',
      'discard s2',
      'run s0',
      'skip s1',
      'skip s2',
    ]);
    assert.equal(h.warmNow.size, 0);
  });

  test('terminating the run discards every prepared step at once', async () => {
    const h = harness(chain(3), { concurrency: 2 });
    await h.started('s0');
    assert.deepEqual([...h.warmNow].sort(), ['s1', 's2']);
    h.controller.abort();
    // Discarded while s0 still runs, not when its end would have skipped them.
    await h.discarded(2);
    assert.ok(!h.events.includes('skip s1'));
    h.finish('s0');
    await h.done;
    assert.ok(!h.events.some((e) => e.startsWith('release')));
    assert.equal(h.warmNow.size, 0);
  });

  test('steps skipped by when, or waiting for an approval, are not prepared; roots never are', async () => {
    const h = harness(
      chain(3, {
        s1: { approval: {} },
        s2: { when: { branch: 'elsewhere' } },
      }),
      { concurrency: 4 },
    );
    for (const name of ['s0', 's1']) {
      await h.started(name);
      h.finish(name);
    }
    await h.done;
    assert.ok(!h.events.some((e) => e.startsWith('prepare')), h.events.join(', '));
  });
});
