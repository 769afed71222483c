import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApprovalAsker } from '../../engine/approval.ts';
import { FakeBackend } from '../../engine/backends/fake.ts';
import { formatPlan } from '../../engine/cli/plan.ts';
import type { RunEvent } from '../../engine/events.ts';
import { lintPipelineSource } from '../../engine/pipeline.ts';
import type { Plan } from '../../engine/plan.ts';
import { runPipeline } from '../../engine/run.ts';
import type { RunRecord } from '../../engine/run-record.ts';
import { beforeHang } from '../helpers/hang.ts';
import { planOf, tempDir } from '../helpers/plans.ts';

const image = 'busybox:stable';

/** deploy waits for approval; notify follows it; check runs beside it. */
function gatedPlan(approval: { message?: string; approvers?: [string, ...string[]]; timeout?: string } = {}) {
  return planOf({
    build: { image, commands: ['x'] },
    deploy: { image, commands: ['x'], depends_on: ['build'], approval },
    notify: { image, commands: ['x'], depends_on: ['deploy'] },
  });
}

async function run(plan: Plan, approvals?: ApprovalAsker, signal?: AbortSignal) {
  const backend = new FakeBackend();
  const events: RunEvent[] = [];
  const record = await beforeHang(
    runPipeline(plan, {
      backend,
      runsDir: tempDir(),
      observer: (event) => events.push(event),
      ...(approvals ? { approvals } : {}),
      ...(signal ? { signal } : {}),
    }),
    'the run',
  );
  return { record, backend, events };
}

function step(record: RunRecord, name: string) {
  const found = record.steps.find((s) => s.name === name);
  assert.ok(found, `step ${name}`);
  return found;
}

/** An asker that never decides by itself: it ends only when the engine stops asking. */
const neverDecides: ApprovalAsker = (_step, _gate, signal) =>
  new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('stopped'))));

describe('approval gates: compile and plan', () => {
  test('the gate is in the plan, with its timeout in milliseconds', () => {
    const plan = gatedPlan({ message: 'Ship it?', approvers: ['alice', 'admin'], timeout: '30m' });
    const deploy = plan.steps.find((s) => s.name === 'deploy');
    assert.deepEqual(deploy?.approval, {
      message: 'Ship it?',
      approvers: ['alice', 'admin'],
      timeoutMs: 1_800_000,
    });
    assert.equal(plan.steps.find((s) => s.name === 'build')?.approval, undefined);
    assert.match(
      formatPlan(plan),
      /deploy \(busybox:stable\) {2}waits for approval by alice, admin \(30m0s\): "Ship it\?"/,
    );
  });

  test('lint locates a bad gate: a bad timeout, an unknown key, an empty approvers list', () => {
    const source = [
      'version: 1',
      'steps:',
      '  deploy:',
      '    image: busybox:stable',
      '    commands: [x]',
      '    approval:',
      '      timeout: soon',
      '      approvers: []',
      '      mesage: hi',
      '',
    ].join('\n');
    const found = lintPipelineSource(source, 'p.yml').diagnostics.map((d) => `${d.line}:${d.col} ${d.path}`);
    assert.deepEqual(
      found.sort(),
      [
        '7:16 steps.deploy.approval.timeout',
        '8:18 steps.deploy.approval.approvers',
        '9:7 steps.deploy.approval.mesage',
      ].sort(),
    );
  });
});

describe('approval gates: the scheduler on the fake backend', () => {
  test('approved: the step waits blocked with its message, then runs, and its dependents follow', async () => {
    const asked: string[] = [];
    const { record, backend, events } = await run(gatedPlan({ message: 'Ship it?' }), async (s, gate) => {
      asked.push(`${s.name}: ${gate.message}`);
      return { approved: true, by: 'alice' };
    });
    assert.equal(record.status, 'success');
    assert.deepEqual(asked, ['deploy: Ship it?']);
    const blocked = events.find((e) => e.type === 'step' && e.step.status === 'blocked');
    assert.ok(blocked?.type === 'step');
    assert.equal(blocked.step.name, 'deploy');
    assert.equal(blocked.step.reason, 'Ship it?');
    assert.ok(
      events.some((e) => e.type === 'notice' && e.step === 'deploy' && e.message === 'approved by alice'),
    );
    assert.deepEqual(
      backend.calls.filter((c) => c.startsWith('start')),
      ['start build', 'start deploy', 'start notify'],
    );
  });

  test('declined: the step is skipped with who and why, and its dependents are skipped', async () => {
    const { record, backend } = await run(gatedPlan(), async () => ({
      approved: false,
      by: 'bob',
      reason: 'not today',
    }));
    assert.equal(step(record, 'build').status, 'success');
    assert.equal(step(record, 'deploy').status, 'skipped');
    assert.equal(step(record, 'deploy').reason, 'declined by bob: not today');
    assert.equal(step(record, 'notify').status, 'skipped');
    assert.equal(step(record, 'notify').reason, "depends on skipped step 'deploy'");
    assert.ok(!backend.calls.includes('start deploy'));
    assert.equal(record.status, 'success');
  });

  test('timed out: the step is skipped saying so, and the asker is told to stop', async () => {
    const plan = gatedPlan({ timeout: '1s' });
    const deploy = plan.steps.find((s) => s.name === 'deploy');
    assert.ok(deploy?.approval);
    deploy.approval.timeoutMs = 5;
    let stopped = false;
    const { record } = await run(plan, (s, gate, signal) => {
      signal.addEventListener('abort', () => {
        stopped = true;
      });
      return neverDecides(s, gate, signal);
    });
    assert.equal(step(record, 'deploy').status, 'skipped');
    assert.equal(step(record, 'deploy').reason, 'approval timed out after 5ms');
    assert.equal(step(record, 'notify').status, 'skipped');
    assert.equal(stopped, true);
  });

  test('without an asker nobody can approve: the gated step is skipped', async () => {
    const { record } = await run(gatedPlan());
    assert.equal(step(record, 'deploy').status, 'skipped');
    assert.equal(step(record, 'deploy').reason, 'approval needed, and this run has no one to ask');
  });

  test('a run terminated while a step is blocked ends killed, the step skipped', async () => {
    const controller = new AbortController();
    const { record } = await run(
      gatedPlan(),
      (s, gate, signal) => {
        setImmediate(() => controller.abort());
        return neverDecides(s, gate, signal);
      },
      controller.signal,
    );
    assert.equal(record.status, 'killed');
    assert.equal(step(record, 'deploy').status, 'skipped');
    assert.equal(step(record, 'deploy').reason, 'run was terminated');
    assert.equal(step(record, 'notify').status, 'skipped');
  });

  test('a blocked step holds no runner slot: an independent step runs while it waits', async () => {
    const plan = planOf({
      deploy: { image, commands: ['x'], depends_on: [], approval: {} },
      check: { image, commands: ['x'], depends_on: [] },
    });
    let checkEnded: () => void = () => undefined;
    const checked = new Promise<void>((resolve) => {
      checkEnded = resolve;
    });
    const backend = new FakeBackend();
    const record = await beforeHang(
      runPipeline(plan, {
        backend,
        runsDir: tempDir(),
        concurrency: 1,
        observer: (event) => {
          if (event.type === 'step' && event.step.name === 'check' && event.step.status === 'success')
            checkEnded();
        },
        approvals: async () => {
          await checked;
          return { approved: true };
        },
      }),
      'the run',
    );
    assert.equal(record.status, 'success');
    assert.deepEqual(
      backend.calls.filter((c) => c.startsWith('start')),
      ['start check', 'start deploy'],
    );
  });
});
