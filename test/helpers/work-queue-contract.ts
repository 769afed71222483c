// What every WorkQueue does, as tests any implementation runs (the in-process queue in
// test/unit/runners-dispatch.test.ts, the BullMQ one in test/server/bullmq-work-queue.test.ts).
// Time is real: only the expiry test gives a short lease, and it waits for what the queue tells.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Lease, WorkQueue } from '../../server/runners/work-queue.ts';
import { pollUntil } from './poll.ts';

export interface QueueTimes {
  leaseMs: number;
  sweepMs: number;
}

/** A fresh, empty queue for each test; the test closes it. */
export type MakeQueue = (times: QueueTimes) => Promise<WorkQueue>;

const LONG: QueueTimes = { leaseMs: 600_000, sweepMs: 60_000 };

function ids(leases: readonly Lease[]): string[] {
  return leases.map((lease) => lease.executionId);
}

export function workQueueContract(make: MakeQueue): void {
  test('a claim takes only work it has every label of, up to its capacity, oldest first', async () => {
    const queue = await make(LONG);
    await queue.enqueue({ executionId: 'a', labels: ['gpu'] });
    await queue.enqueue({ executionId: 'b', labels: [] });
    await queue.enqueue({ executionId: 'c', labels: ['linux'] });
    await queue.enqueue({ executionId: 'd', labels: [] });
    const leases = await queue.claim({ name: 'cpu', labels: ['linux', 'arm'] }, 2, 0);
    assert.deepEqual(
      leases.map((l) => [l.executionId, l.runner]),
      [
        ['b', 'cpu'],
        ['c', 'cpu'],
      ],
    );
    assert.deepEqual(
      (await queue.waiting()).map((w) => [w.executionId, w.labels]),
      [
        ['a', ['gpu']],
        ['d', []],
      ],
    );
    const gpu = await queue.claim({ name: 'gpu', labels: ['gpu', 'linux'] }, 5, 0);
    assert.deepEqual(ids(gpu), ['a', 'd']);
    assert.deepEqual(await queue.waiting(), []);
    await queue.close();
  });

  test('a waiting claim gets work queued later; heartbeats hold the lease until it is finished', async () => {
    const queue = await make(LONG);
    const expired: string[] = [];
    queue.onExpired((lease) => expired.push(lease.executionId));
    const claim = queue.claim({ name: 'r', labels: ['gpu'] }, 2, 600_000);
    await queue.enqueue({ executionId: 'x', labels: ['gpu'] });
    const [lease] = await claim;
    assert.equal(lease?.executionId, 'x');
    assert.equal(lease?.runner, 'r');
    assert.equal(await queue.heartbeat(lease?.id ?? ''), true);
    assert.equal(await queue.heartbeat('nope'), false);
    await queue.finish(lease?.id ?? '');
    assert.equal(await queue.heartbeat(lease?.id ?? ''), false);
    assert.deepEqual(await queue.claim({ name: 'r', labels: ['gpu'] }, 1, 0), []);
    assert.deepEqual(expired, []);
    await queue.close();
  });

  test('a lease not heartbeat expires, is told once, and its work goes to no one else', async () => {
    const queue = await make({ leaseMs: 500, sweepMs: 50 });
    const expired: string[] = [];
    queue.onExpired((lease) => expired.push(`${lease.executionId}@${lease.runner}`));
    await queue.enqueue({ executionId: 'y', labels: [] });
    const [lease] = await queue.claim({ name: 'r', labels: [] }, 1, 0);
    assert.equal(lease?.executionId, 'y');
    await pollUntil('the lease to expire', () => expired.length > 0, 20);
    assert.equal(await queue.heartbeat(lease?.id ?? ''), false);
    assert.deepEqual(await queue.claim({ name: 'other', labels: [] }, 1, 0), []);
    assert.deepEqual(await queue.waiting(), []);
    assert.deepEqual(expired, ['y@r']);
    await queue.close();
  });

  test('remove takes out waiting work only', async () => {
    const queue = await make(LONG);
    await queue.enqueue({ executionId: 'p', labels: [] });
    await queue.enqueue({ executionId: 'q', labels: ['gpu'] });
    assert.equal(await queue.remove('q'), true);
    assert.equal(await queue.remove('q'), false);
    assert.equal(await queue.remove('never'), false);
    const [lease] = await queue.claim({ name: 'r', labels: ['gpu'] }, 2, 0);
    assert.equal(lease?.executionId, 'p');
    assert.equal(await queue.remove('p'), false);
    assert.equal(await queue.heartbeat(lease?.id ?? ''), true);
    await queue.close();
  });

  test('work queued twice waits once', async () => {
    const queue = await make(LONG);
    await queue.enqueue({ executionId: 'twice', labels: [] });
    // Refused or ignored: either way it is not queued a second time.
    await queue.enqueue({ executionId: 'twice', labels: [] }).catch(() => undefined);
    assert.deepEqual(
      (await queue.waiting()).map((w) => w.executionId),
      ['twice'],
    );
    assert.equal((await queue.claim({ name: 'r', labels: [] }, 5, 0)).length, 1);
    await queue.close();
  });

  test('an aborted claim answers nothing and leaves the work for the next', async () => {
    const queue = await make(LONG);
    const aborter = new AbortController();
    const claim = queue.claim({ name: 'gone', labels: [] }, 1, 600_000, aborter.signal);
    aborter.abort();
    assert.deepEqual(await claim, []);
    await queue.enqueue({ executionId: 'kept', labels: [] });
    assert.deepEqual(ids(await queue.claim({ name: 'next', labels: [] }, 1, 600_000)), ['kept']);
    await queue.close();
  });

  test('a lease handed over is followed only once adopted: heartbeats, finish and expiry there', async () => {
    const queue = await make(LONG);
    await queue.enqueue({ executionId: 'moved', labels: ['gpu'] });
    const [lease] = await queue.claim({ name: 'r', labels: ['gpu'] }, 1, 0);
    const handed = await queue.handOver(lease?.id ?? '');
    assert.deepEqual(handed && [handed.id, handed.executionId, handed.runner, handed.labels], [
      lease?.id,
      'moved',
      'r',
      ['gpu'],
    ]);
    assert.equal(await queue.handOver(lease?.id ?? ''), undefined);
    assert.equal(
      await queue.heartbeat(lease?.id ?? ''),
      false,
      'not followed between hand-over and adoption',
    );
    // No server follows it yet: a runner's heartbeat keeps it all the same.
    assert.equal(await queue.extend(handed ?? ({} as never)), true);
    assert.equal(await queue.adopt(handed ?? ({} as never)), true);
    assert.equal(await queue.heartbeat(lease?.id ?? ''), true);
    assert.deepEqual(await queue.claim({ name: 'other', labels: ['gpu'] }, 1, 0), []);
    await queue.finish(lease?.id ?? '');
    assert.equal(await queue.heartbeat(lease?.id ?? ''), false);
    assert.deepEqual(await queue.waiting(), []);
    await queue.close();
  });

  test('work given back waits again, first in line, for the next claim', async () => {
    const queue = await make(LONG);
    await queue.enqueue({ executionId: 'first', labels: [] });
    await queue.enqueue({ executionId: 'second', labels: [] });
    const [lease] = await queue.claim({ name: 'r', labels: [] }, 1, 0);
    assert.equal(lease?.executionId, 'first');
    await queue.giveBack(lease?.id ?? '');
    assert.equal(await queue.heartbeat(lease?.id ?? ''), false);
    assert.deepEqual(ids(await queue.claim({ name: 'next', labels: [] }, 2, 0)), ['first', 'second']);
    await queue.close();
  });

  test('close answers waiting claims with nothing', async () => {
    const queue = await make(LONG);
    const claim = queue.claim({ name: 'r', labels: [] }, 1, 600_000);
    await queue.close();
    assert.deepEqual(await claim, []);
  });
}
