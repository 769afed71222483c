// The WorkQueue on BullMQ (Redis), for `gbcms serve --queue redis://...`: what waits survives a
// server or a Redis restart (with Redis's append-only file), and several servers can share it.
// BullMQ is used in its "manually fetching jobs" mode: a claim fetches a job with a fresh token,
// which is the lease's id and the job's lock; a heartbeat extends that lock by the lease time;
// the end of the work completes the job, which removes it. Work is kept by label set, one BullMQ
// queue each (label-queues.ts).
//
// A lease lost is a lock that ran out. This queue checks the locks of the leases it handed out
// every `sweepMs` (and at each heartbeat), tells its listeners once, and removes the job: the
// work is never handed to another runner. BullMQ's stalled checker, allowed no stall, is there
// behind it for leases whose server is gone too: their jobs fail when next fetched.
//
// A claim waits without hammering Redis: work this server queues wakes its waiting claims at
// once; work queued elsewhere (another server, or what a Redis restart brought back) is looked
// for every `pollMs`, once for all the claims waiting here, and only while some wait.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type LabelQueue, LabelQueues, labelSet, type WorkJob } from './label-queues.ts';
import type { Claimant, HandedLease, Lease, QueuedWork, WorkQueue } from './work-queue.ts';

export interface BullMQWorkQueueOptions {
  /** Shared by every queue and worker; closed by close(). */
  redis: Redis;
  leaseMs: number;
  sweepMs: number;
  pollMs: number;
  /** Prefix of every key in Redis (default gbcms): servers sharing work share it. */
  prefix?: string;
  /** Errors Redis or BullMQ report outside a call (a lost connection, a failed check). */
  onError(error: Error): void;
}

interface Held {
  lease: Lease;
  queue: LabelQueue;
  job: WorkJob;
}

interface WaitingClaim {
  claimant: Claimant;
  capacity: number;
  /** Answered: with work, with none at its time, or aborted. */
  settled: boolean;
  /** A claim that does not wait is answered after one look, work or not. */
  once: boolean;
  resolve(leases: Lease[]): void;
}

export class BullMQWorkQueue implements WorkQueue {
  readonly #options: BullMQWorkQueueOptions;
  readonly #queues: LabelQueues;
  readonly #held = new Map<string, Held>();
  readonly #claims = new Set<WaitingClaim>();
  readonly #expired = new Set<(lease: Lease) => void>();
  readonly #sweep: NodeJS.Timeout;
  #poll: NodeJS.Timeout | undefined;
  /** The look for work in progress, and whether another must follow it. */
  #serving: Promise<void> | undefined;
  #serveAgain = false;
  #sweeping = false;
  #closed = false;

  constructor(options: BullMQWorkQueueOptions) {
    this.#options = options;
    this.#queues = new LabelQueues({
      redis: options.redis,
      prefix: options.prefix ?? 'gbcms',
      leaseMs: options.leaseMs,
      onError: options.onError,
    });
    this.#sweep = setInterval(() => void this.#sweepLeases(), options.sweepMs);
    this.#sweep.unref();
  }

  async enqueue(work: QueuedWork): Promise<void> {
    const labels = labelSet(work.labels);
    const queue = await this.#queues.forLabels(labels);
    if ([...this.#held.values()].some((held) => held.lease.executionId === work.executionId)) {
      throw new Error(`execution ${work.executionId} is held by a lease`);
    }
    const left = await queue.queue.getJob(work.executionId);
    // Waiting already (queued twice, or by this server's previous process): it keeps its place.
    if (left && (await left.getState()) === 'waiting' && !left.deferredFailure) return;
    if (left) await this.#clear(queue, left);
    const seq = await this.#queues.next();
    await queue.queue.add('execution', { labels, seq }, { jobId: work.executionId });
    this.#serve();
  }

  claim(claimant: Claimant, capacity: number, waitMs: number, signal?: AbortSignal): Promise<Lease[]> {
    if (this.#closed || capacity <= 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const settle = (leases: Lease[]) => {
        if (claim.settled) return;
        claim.settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#claims.delete(claim);
        resolve(leases);
      };
      // Aborted already, it still takes what waits now, as a claim that does not wait.
      const once = waitMs <= 0 || signal?.aborted === true;
      const claim: WaitingClaim = { claimant, capacity, settled: false, once, resolve: settle };
      const onAbort = () => settle([]);
      const timer = once ? undefined : setTimeout(onAbort, waitMs);
      if (!once) signal?.addEventListener('abort', onAbort, { once: true });
      this.#claims.add(claim);
      this.#serve();
    });
  }

  async heartbeat(leaseId: string): Promise<boolean> {
    const held = this.#held.get(leaseId);
    if (!held) return false;
    if ((await held.job.extendLock(leaseId, this.#options.leaseMs)) === 1) {
      held.lease.expiresAt = Date.now() + this.#options.leaseMs;
      return true;
    }
    await this.#expire(held);
    return false;
  }

  async finish(leaseId: string): Promise<void> {
    const held = this.#held.get(leaseId);
    if (!held) return;
    this.#held.delete(leaseId);
    try {
      await held.job.moveToCompleted(null, leaseId, false);
    } catch {
      // The lock ran out just now: the job is taken out all the same.
      await this.#removeJob(held.queue, String(held.job.id));
    }
  }

  async handOver(leaseId: string): Promise<HandedLease | undefined> {
    const held = this.#held.get(leaseId);
    if (!held) return undefined;
    this.#held.delete(leaseId);
    return { ...held.lease, labels: held.job.data.labels };
  }

  async adopt(lease: HandedLease): Promise<boolean> {
    const queue = await this.#queues.forLabels(labelSet(lease.labels));
    const job = (await queue.queue.getJob(lease.executionId)) as WorkJob | undefined;
    if (!job) return false;
    const key = this.#queues.lockKey(queue, lease.executionId);
    const lock = await this.#options.redis.get(key);
    if (lock !== lease.id) {
      // Its lock ran out while no server followed it (the one that did died, and noticing that
      // takes longer than a lease): still active and locked by no one else, nobody was given it
      // meanwhile, so it is locked again with the same token. Otherwise it is lost.
      if (lock !== null || job.deferredFailure || (await job.getState()) !== 'active') return false;
      const relocked = await this.#options.redis.set(key, lease.id, 'PX', this.#options.leaseMs, 'NX');
      if (relocked !== 'OK') return false;
    }
    this.#held.set(lease.id, { lease: { ...lease }, queue, job });
    return true;
  }

  async extend(lease: HandedLease): Promise<boolean> {
    const queue = await this.#queues.forLabels(labelSet(lease.labels));
    const job = await queue.queue.getJob(lease.executionId);
    return job !== undefined && (await job.extendLock(lease.id, this.#options.leaseMs)) === 1;
  }

  async giveBack(leaseId: string): Promise<void> {
    const held = this.#held.get(leaseId);
    if (held) await this.#giveBack([held.lease]);
  }

  async remove(executionId: string): Promise<boolean> {
    const found = await this.#queues.find(executionId);
    if (!found || found.job.deferredFailure || (await found.job.getState()) !== 'waiting') return false;
    // A claim taking it meanwhile locks it, and BullMQ then refuses to remove it.
    return (await found.queue.queue.remove(executionId)) === 1;
  }

  async waiting(): Promise<QueuedWork[]> {
    const jobs: WorkJob[] = [];
    for (const queue of await this.#queues.all()) {
      jobs.push(...((await queue.queue.getJobs(['waiting'], 0, -1, true)) as WorkJob[]));
    }
    return jobs
      .filter((job) => !job.deferredFailure)
      .sort((a, b) => a.data.seq - b.data.seq)
      .map((job) => ({ executionId: String(job.id), labels: job.data.labels }));
  }

  onExpired(listener: (lease: Lease) => void): void {
    this.#expired.add(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    clearTimeout(this.#poll);
    for (const claim of [...this.#claims]) claim.resolve([]);
    // Not waiting for a look in progress, nor quitting politely: with Redis away either would
    // hold the server's shutdown for as long as Redis stays away. A job a look took as it
    // closed is held by no one: its lock runs out and it is not run again.
    await this.#queues.close();
    this.#options.redis.disconnect();
  }

  /** Looks for work for the waiting claims; one look at a time, another after it if asked. */
  #serve(): void {
    if (this.#closed) return;
    if (this.#serving) {
      this.#serveAgain = true;
      return;
    }
    clearTimeout(this.#poll);
    this.#poll = undefined;
    this.#serving = this.#serveClaims()
      .catch((error: unknown) => this.#options.onError(error as Error))
      .finally(() => {
        this.#serving = undefined;
        if (this.#serveAgain) {
          this.#serveAgain = false;
          this.#serve();
        } else if (this.#claims.size > 0 && !this.#closed) {
          this.#poll = setTimeout(() => this.#serve(), this.#options.pollMs);
        }
      });
  }

  async #serveClaims(): Promise<void> {
    const heads = new Map<string, number | undefined>();
    for (const claim of [...this.#claims]) {
      if (claim.settled) continue;
      const leases = await this.#take(claim, heads);
      // Answered meanwhile (its time ran out, its runner went): the work goes back, first in line.
      if (claim.settled) await this.#giveBack(leases);
      else if (leases.length > 0 || claim.once) claim.resolve(leases);
    }
  }

  /** Up to the claim's capacity, from the queues it covers, oldest head first. */
  async #take(claim: WaitingClaim, heads: Map<string, number | undefined>): Promise<Lease[]> {
    const queues = await this.#queues.covered(claim.claimant.labels);
    const head = async (queue: LabelQueue) => {
      if (!heads.has(queue.name)) {
        const [first] = await queue.queue.getJobs(['waiting'], 0, 0, true);
        heads.set(queue.name, (first as WorkJob | undefined)?.data.seq);
      }
      return heads.get(queue.name);
    };
    const leases: Lease[] = [];
    while (leases.length < claim.capacity && !this.#closed) {
      let oldest: { queue: LabelQueue; at: number } | undefined;
      for (const queue of queues) {
        const at = await head(queue);
        if (at !== undefined && (oldest === undefined || at < oldest.at)) oldest = { queue, at };
      }
      if (!oldest) break;
      heads.delete(oldest.queue.name);
      const token = randomBytes(12).toString('base64url');
      const job = await oldest.queue.worker.getNextJob(token, { block: false });
      if (!job) {
        heads.set(oldest.queue.name, undefined);
        continue;
      }
      // Its lease ran out earlier (BullMQ's stalled checker put it back): it is not run again.
      if (job.deferredFailure) {
        await job.moveToFailed(new Error(job.deferredFailure), token, false).catch(this.#options.onError);
        continue;
      }
      const lease: Lease = {
        id: token,
        executionId: String(job.id),
        runner: claim.claimant.name,
        expiresAt: Date.now() + this.#options.leaseMs,
      };
      this.#held.set(token, { lease, queue: oldest.queue, job });
      leases.push(lease);
    }
    return leases;
  }

  async #giveBack(leases: Lease[]): Promise<void> {
    for (const lease of leases) {
      const held = this.#held.get(lease.id);
      this.#held.delete(lease.id);
      await held?.job.moveToWait(lease.id).catch(this.#options.onError);
    }
    if (leases.length > 0) this.#serve();
  }

  /** Leases whose lock is no longer theirs: the lock ran out (or Redis lost it). */
  async #sweepLeases(): Promise<void> {
    if (this.#sweeping || this.#closed || this.#held.size === 0) return;
    this.#sweeping = true;
    try {
      const held = [...this.#held.values()];
      const locks = await this.#options.redis.mget(
        held.map(({ queue, job }) => this.#queues.lockKey(queue, String(job.id))),
      );
      for (const [index, entry] of held.entries()) {
        if (locks[index] !== entry.lease.id) await this.#expire(entry);
      }
    } catch (error) {
      this.#options.onError(error as Error);
    } finally {
      this.#sweeping = false;
    }
  }

  /** Once per lease: forgotten first, so a second finding of the same loss does nothing. */
  async #expire(held: Held): Promise<void> {
    if (this.#held.get(held.lease.id) !== held) return;
    this.#held.delete(held.lease.id);
    await this.#removeJob(held.queue, String(held.job.id));
    for (const listener of this.#expired) listener(held.lease);
  }

  /** A job this process holds no lease on (its previous process's): taken out before it is queued again. */
  async #clear(queue: LabelQueue, job: WorkJob): Promise<void> {
    const token = await this.#options.redis.get(this.#queues.lockKey(queue, String(job.id)));
    if (token) await job.moveToFailed(new Error('queued again'), token, false);
    else await queue.queue.remove(String(job.id));
  }

  async #removeJob(queue: LabelQueue, jobId: string): Promise<void> {
    await queue.queue.remove(jobId).catch(this.#options.onError);
  }
}
