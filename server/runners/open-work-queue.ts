// The WorkQueue `gbcms serve` dispatches through: in the server's memory by default, on BullMQ
// in Redis with --queue (or GBCMS_QUEUE_URL).
import { BullMQWorkQueue } from './bullmq-work-queue.ts';
import { MemoryWorkQueue } from './memory-queue.ts';
import { LEASE_SWEEP_MS } from './protocol.ts';
import { openRedis } from './redis-connection.ts';
import type { WorkQueue } from './work-queue.ts';

/** While claims wait, how often Redis is asked for work queued by another server or brought back by a restart. */
export const QUEUE_POLL_MS = 1_000;

/** Rejects with RedisUnreachableError when `url` does not answer. */
export async function openWorkQueue(
  url: string | undefined,
  leaseMs: number,
  onError: (error: Error) => void,
): Promise<WorkQueue> {
  if (url === undefined) return new MemoryWorkQueue({ leaseMs, sweepMs: LEASE_SWEEP_MS });
  const redis = await openRedis(url, onError);
  return new BullMQWorkQueue({ redis, leaseMs, sweepMs: LEASE_SWEEP_MS, pollMs: QUEUE_POLL_MS, onError });
}
