// Where the BullMQ work queue keeps work by labels. BullMQ hands out a queue's jobs in order and
// cannot pick by a job's data, so work is split by the labels it needs: one BullMQ queue per
// distinct (sorted) label set, all of whose work any runner with those labels can take. A
// claimant draws from every queue whose label set it covers, taking the oldest head first. The
// label sets in use are listed in a Redis hash beside the queues, so every server (and the next
// process after a restart) knows the queues work may wait in.
import { createHash } from 'node:crypto';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { hasLabels } from './work-queue.ts';

/** What a job carries: the labels are also its queue's, kept for waiting(). */
export interface WorkData {
  labels: string[];
  /**
   * Its place in the order of all work queued, from one Redis counter: timestamps of work
   * queued within the same millisecond, or on servers whose clocks differ, do not say which came first.
   */
  seq: number;
}

export type WorkJob = Job<WorkData, null, string>;

export interface LabelQueue {
  name: string;
  labels: readonly string[];
  queue: Queue<WorkData, null, string>;
  /** Never runs by itself (autorun false): jobs are fetched by getNextJob, one claim at a time. */
  worker: Worker<WorkData, null, string>;
}

export interface LabelQueuesOptions {
  redis: Redis;
  /** Prefix of every key: the queues' (BullMQ's `prefix`) and the label-set hash. */
  prefix: string;
  leaseMs: number;
  onError(error: Error): void;
}

/** One label set, however given: each label once, sorted. */
export function labelSet(labels: readonly string[]): string[] {
  return [...new Set(labels)].sort();
}

/** The queue of a label set: a hash, since labels may hold characters BullMQ keys must not. */
export function queueName(labels: readonly string[]): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(labelSet(labels)))
    .digest('hex');
  return `work-${digest.slice(0, 20)}`;
}

export class LabelQueues {
  readonly #options: LabelQueuesOptions;
  readonly #open = new Map<string, LabelQueue>();
  readonly #registry: string;

  constructor(options: LabelQueuesOptions) {
    this.#options = options;
    this.#registry = `${options.prefix}:label-sets`;
  }

  /** The queue for `labels`, listed so that other servers find it too. */
  async forLabels(labels: readonly string[]): Promise<LabelQueue> {
    const set = labelSet(labels);
    const name = queueName(set);
    if (!this.#open.has(name)) await this.#options.redis.hset(this.#registry, name, JSON.stringify(set));
    return this.#of(name, set);
  }

  /** Every queue work may wait in, as listed in Redis now. */
  async all(): Promise<LabelQueue[]> {
    const listed = await this.#options.redis.hgetall(this.#registry);
    return Object.entries(listed).map(([name, labels]) => this.#of(name, JSON.parse(labels) as string[]));
  }

  /** The queues whose work a runner with `labels` may take. */
  async covered(labels: readonly string[]): Promise<LabelQueue[]> {
    return (await this.all()).filter((queue) => hasLabels(labels, queue.labels));
  }

  /** The job `executionId` in whichever queue holds it. */
  async find(executionId: string): Promise<{ queue: LabelQueue; job: WorkJob } | undefined> {
    for (const queue of await this.all()) {
      const job = await queue.queue.getJob(executionId);
      if (job) return { queue, job };
    }
    return undefined;
  }

  /** The next place in the order of all work queued. */
  next(): Promise<number> {
    return this.#options.redis.incr(`${this.#options.prefix}:queued`);
  }

  /** The lock key of a job: its value is the token of the lease that holds it. */
  lockKey(queue: LabelQueue, jobId: string): string {
    return queue.queue.toKey(`${jobId}:lock`);
  }

  async close(): Promise<void> {
    for (const { queue, worker } of this.#open.values()) {
      await worker.close(true);
      await queue.close();
    }
    this.#open.clear();
  }

  #of(name: string, labels: readonly string[]): LabelQueue {
    const known = this.#open.get(name);
    if (known) return known;
    const { redis, prefix, leaseMs, onError } = this.#options;
    const queue = new Queue<WorkData, null, string>(name, {
      connection: redis,
      prefix,
      // Finished work leaves nothing behind, so the same execution can be queued again.
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
    });
    const worker = new Worker<WorkData, null, string>(name, null, {
      connection: redis,
      prefix,
      autorun: false,
      lockDuration: leaseMs,
      // BullMQ's own check, behind ours (bullmq-work-queue.ts): a lease whose server died too is
      // found here, and with no stall allowed its job is failed when next fetched, not run again.
      maxStalledCount: 0,
      stalledInterval: leaseMs,
    });
    queue.on('error', onError);
    worker.on('error', onError);
    void worker.startStalledCheckTimer().catch(onError);
    const opened: LabelQueue = { name, labels, queue, worker };
    this.#open.set(name, opened);
    return opened;
  }
}
