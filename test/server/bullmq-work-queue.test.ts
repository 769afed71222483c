// The BullMQ work queue on a real Redis (a redis-server of this file's own): the WorkQueue
// contract, then what only a shared, persistent queue does: work and leases that outlive a Redis
// restart, two servers on one queue, a previous process's leftovers, and a Redis that is not there.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { BullMQWorkQueue } from '../../server/runners/bullmq-work-queue.ts';
import { openRedis, RedisUnreachableError } from '../../server/runners/redis-connection.ts';
import { pollUntil } from '../helpers/poll.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { type QueueTimes, workQueueContract } from '../helpers/work-queue-contract.ts';

let redis: RedisServer;

/** A queue of its own in the shared Redis: its keys under a fresh prefix unless given one. */
async function bullQueue(times: QueueTimes, prefix = `t${randomBytes(4).toString('hex')}`) {
  const errors: Error[] = [];
  const connection = await openRedis(redis.url, (error) => errors.push(error));
  const queue = new BullMQWorkQueue({
    redis: connection,
    ...times,
    pollMs: 50,
    prefix,
    onError: (error) => errors.push(error),
  });
  return { queue, prefix, errors };
}

const LONG: QueueTimes = { leaseMs: 600_000, sweepMs: 60_000 };

describe('BullMQWorkQueue', () => {
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.close();
  });

  describe('as every WorkQueue', () => {
    workQueueContract(async (times) => (await bullQueue(times)).queue);
  });

  test('work waiting and a lease held survive a Redis restart; none is handed out twice', async () => {
    const { queue } = await bullQueue({ leaseMs: 60_000, sweepMs: 50 });
    const expired: string[] = [];
    queue.onExpired((lease) => expired.push(lease.executionId));
    await queue.enqueue({ executionId: 'held', labels: [] });
    for (const id of ['w1', 'w2']) await queue.enqueue({ executionId: id, labels: ['linux'] });
    const [held] = await queue.claim({ name: 'before', labels: [] }, 1, 0);
    assert.equal(held?.executionId, 'held');
    // A claim waiting across the restart gets what it waits for once Redis is back.
    const waiting = queue.claim({ name: 'across', labels: ['gpu'] }, 1, 600_000);

    await redis.stop();
    await redis.start();

    assert.equal(await queue.heartbeat(held?.id ?? ''), true);
    await queue.enqueue({ executionId: 'after', labels: ['gpu'] });
    assert.deepEqual(
      (await waiting).map((l) => l.executionId),
      ['after'],
    );
    const rest = await queue.claim({ name: 'later', labels: ['linux'] }, 5, 0);
    assert.deepEqual(
      rest.map((l) => l.executionId),
      ['w1', 'w2'],
    );
    assert.deepEqual(await queue.claim({ name: 'later', labels: ['gpu'] }, 5, 0), []);
    await queue.finish(held?.id ?? '');
    assert.deepEqual(expired, []);
    await queue.close();
  });

  test('two servers on one queue: work one queues, a claim waiting on the other gets', async () => {
    const one = await bullQueue(LONG);
    const two = await bullQueue(LONG, one.prefix);
    const claim = two.queue.claim({ name: 'r', labels: ['gpu', 'linux'] }, 1, 600_000);
    await one.queue.enqueue({ executionId: 'shared', labels: ['linux', 'gpu'] });
    const [lease] = await claim;
    assert.equal(lease?.executionId, 'shared');
    assert.deepEqual(await one.queue.waiting(), []);
    assert.equal(await one.queue.remove('shared'), false);
    await two.queue.finish(lease?.id ?? '');
    await one.queue.close();
    await two.queue.close();
  });

  test('a lease one server claimed is handed over to another, which follows it from then on', async () => {
    const one = await bullQueue({ leaseMs: 60_000, sweepMs: 50 });
    const two = await bullQueue({ leaseMs: 60_000, sweepMs: 50 }, one.prefix);
    const expired: string[] = [];
    one.queue.onExpired((lease) => expired.push(`one:${lease.executionId}`));
    two.queue.onExpired((lease) => expired.push(`two:${lease.executionId}`));
    await one.queue.enqueue({ executionId: 'theirs', labels: ['linux'] });
    const [lease] = await one.queue.claim({ name: 'r', labels: ['linux'] }, 1, 0);
    const handed = await one.queue.handOver(lease?.id ?? '');
    assert.ok(handed);
    assert.equal(await two.queue.adopt(handed), true);
    assert.equal(await two.queue.heartbeat(handed.id), true);
    // The server that claimed it follows it no more: no heartbeat, no expiry of its own.
    assert.equal(await one.queue.heartbeat(handed.id), false);
    assert.equal(await two.queue.heartbeat(handed.id), true);
    assert.deepEqual(expired, []);
    await two.queue.finish(handed.id);
    assert.equal(await two.queue.adopt(handed), false, 'a finished lease cannot be adopted');
    await one.queue.close();
    await two.queue.close();
  });

  test("a previous process's work: waiting keeps its place, a lease it held is not run again", async () => {
    const old = await bullQueue(LONG);
    for (const id of ['first', 'second', 'taken']) await old.queue.enqueue({ executionId: id, labels: [] });
    await old.queue.claim({ name: 'r', labels: [] }, 1, 0);
    await old.queue.claim({ name: 'r', labels: [] }, 1, 0);
    // `first` and `second` are held by leases of a process that is gone.
    await old.queue.enqueue({ executionId: 'taken', labels: [] }).catch(() => undefined);
    const next = await bullQueue(LONG, old.prefix);
    // The new process queues again what its store still has pending.
    await next.queue.enqueue({ executionId: 'taken', labels: [] });
    await next.queue.enqueue({ executionId: 'second', labels: [] });
    assert.deepEqual(
      (await next.queue.waiting()).map((w) => w.executionId),
      ['taken', 'second'],
    );
    const leases = await next.queue.claim({ name: 'r', labels: [] }, 5, 0);
    assert.deepEqual(
      leases.map((l) => l.executionId),
      ['taken', 'second'],
    );
    for (const lease of leases) await next.queue.finish(lease.id);
    await old.queue.close();
    await next.queue.close();
  });

  test('a lease lost without a heartbeat: its job leaves Redis, found by the sweep', async () => {
    const { queue } = await bullQueue({ leaseMs: 300, sweepMs: 50 });
    const expired: string[] = [];
    queue.onExpired((lease) => expired.push(lease.id));
    await queue.enqueue({ executionId: 'dropped', labels: ['x'] });
    const [lease] = await queue.claim({ name: 'r', labels: ['x'] }, 1, 0);
    await pollUntil('the sweep to find the lock gone', () => expired.length > 0, 20);
    assert.deepEqual(expired, [lease?.id]);
    // Queued again (the project opted in to a retry, or a new start): it runs, as new work.
    await queue.enqueue({ executionId: 'dropped', labels: ['x'] });
    const [again] = await queue.claim({ name: 'r2', labels: ['x'] }, 1, 0);
    assert.equal(again?.executionId, 'dropped');
    assert.notEqual(again?.id, lease?.id);
    await queue.finish(again?.id ?? '');
    await queue.close();
  });

  test('a Redis that does not answer is named in the error', async () => {
    await assert.rejects(
      openRedis('redis://127.0.0.1:1/0', () => {}),
      (error: unknown) =>
        error instanceof RedisUnreachableError &&
        /^redis:\/\/127\.0\.0\.1:1\/0: .*ECONNREFUSED/.test(error.message),
    );
  });
});
