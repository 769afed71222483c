// The pure pieces of runner dispatch: runs_on compiled into the plan and its labels, the
// in-process work queue (the WorkQueue contract, and its lease times on a clock of its own), and
// a plan moved onto a runner's folder.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlan } from '../../engine/compile/compiler.ts';
import type { PipelineFile } from '../../engine/config/pipeline-file.generated.ts';
import { planLabels } from '../../engine/plan.ts';
import { rebasePlan } from '../../server/runners/agent/rebase-plan.ts';
import { MemoryWorkQueue } from '../../server/runners/memory-queue.ts';
import { pollUntil } from '../helpers/poll.ts';
import { workQueueContract } from '../helpers/work-queue-contract.ts';

const options = { file: '.gbcms.yml', workspace: '/srv/ws/abc', trigger: { event: 'push' as const } };

const config: PipelineFile = {
  version: 1,
  environments: {
    cuda: { image: 'cuda:12', runs_on: ['gpu'] },
    built: { build: { context: 'docker' } },
  },
  steps: {
    train: { environment: 'cuda', runs_on: ['linux', 'gpu'], commands: ['true'] },
    pack: { environment: 'built', commands: ['true'] },
    skipped: { image: 'busybox', runs_on: ['arm'], when: { branch: 'never' }, commands: ['true'] },
  },
};

describe('runs_on in the plan', () => {
  test("a step's labels are its own and its environment's; skipped steps add none", () => {
    const plan = compilePlan(config, options);
    assert.deepEqual(plan.steps.find((s) => s.name === 'train')?.runsOn, ['gpu', 'linux']);
    assert.equal(plan.steps.find((s) => s.name === 'pack')?.runsOn, undefined);
    assert.deepEqual(planLabels(plan), ['gpu', 'linux']);
  });

  test("a runner's copy of the plan points into its own folder", () => {
    const plan = rebasePlan(compilePlan(config, options), '/srv/ws/abc', '/runner/work/abc/source');
    assert.equal(plan.workspace, '/runner/work/abc/source');
    assert.equal(
      plan.steps.find((s) => s.name === 'pack')?.environment.build?.context,
      '/runner/work/abc/source/docker',
    );
  });
});

describe('MemoryWorkQueue, as every WorkQueue', () => {
  workQueueContract(async (times) => new MemoryWorkQueue(times));
});

describe('MemoryWorkQueue', () => {
  test("a heartbeat moves the lease's end to a lease time from now", async () => {
    let now = 0;
    const queue = new MemoryWorkQueue({ leaseMs: 8_000, sweepMs: 60_000, now: () => now });
    await queue.enqueue({ executionId: 'x', labels: [] });
    const [lease] = await queue.claim({ name: 'r', labels: [] }, 1, 0);
    assert.equal(lease?.expiresAt, 8_000);
    now = 7_000;
    assert.equal(await queue.heartbeat(lease?.id ?? ''), true);
    assert.equal(lease?.expiresAt, 15_000);
    await queue.close();
  });

  test('a lease past its time is swept and told once', async () => {
    let now = 0;
    const queue = new MemoryWorkQueue({ leaseMs: 8_000, sweepMs: 5, now: () => now });
    const expired: string[] = [];
    queue.onExpired((lease) => expired.push(`${lease.executionId}@${lease.runner}`));
    await queue.enqueue({ executionId: 'y', labels: [] });
    const [lease] = await queue.claim({ name: 'r', labels: [] }, 1, 0);
    now = 8_000;
    await pollUntil('the sweep', () => expired.length > 0);
    assert.deepEqual(expired, ['y@r']);
    assert.equal(await queue.heartbeat(lease?.id ?? ''), false);
    await queue.close();
  });
});
