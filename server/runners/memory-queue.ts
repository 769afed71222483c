// The in-process WorkQueue: the server's memory holds what waits and who holds what. Enough
// for one server process with any number of runners; a lease expires when its runner has not
// heartbeat for `leaseMs`, found by a sweep every `sweepMs`.
import { randomBytes } from 'node:crypto';
import {
  type Claimant,
  type HandedLease,
  hasLabels,
  type Lease,
  type QueuedWork,
  type WorkQueue,
} from './work-queue.ts';

export interface MemoryQueueOptions {
  leaseMs: number;
  sweepMs: number;
  now?: () => number;
}

interface Claim {
  claimant: Claimant;
  capacity: number;
  resolve(leases: Lease[]): void;
}

export class MemoryWorkQueue implements WorkQueue {
  readonly #options: MemoryQueueOptions;
  readonly #now: () => number;
  #waiting: QueuedWork[] = [];
  readonly #claims = new Set<Claim>();
  readonly #leases = new Map<string, HandedLease>();
  /** Handed over and not adopted yet: followed by no one, never expired. */
  readonly #handed = new Map<string, HandedLease>();
  readonly #expired = new Set<(lease: Lease) => void>();
  readonly #sweep: NodeJS.Timeout;

  constructor(options: MemoryQueueOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#sweep = setInterval(() => this.#expire(), options.sweepMs);
    this.#sweep.unref();
  }

  async enqueue(work: QueuedWork): Promise<void> {
    if (this.#waiting.some((w) => w.executionId === work.executionId)) {
      throw new Error(`execution ${work.executionId} is already queued`);
    }
    this.#waiting.push({ executionId: work.executionId, labels: [...work.labels] });
    this.#serveClaims();
  }

  claim(claimant: Claimant, capacity: number, waitMs: number, signal?: AbortSignal): Promise<Lease[]> {
    const now = this.#take(claimant, capacity);
    if (now.length > 0 || waitMs <= 0 || signal?.aborted) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (leases: Lease[]) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#claims.delete(claim);
        resolve(leases);
      };
      const claim: Claim = { claimant, capacity, resolve: done };
      const onAbort = () => done([]);
      const timer = setTimeout(onAbort, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#claims.add(claim);
    });
  }

  async heartbeat(leaseId: string): Promise<boolean> {
    const lease = this.#leases.get(leaseId);
    if (!lease) return false;
    lease.expiresAt = this.#now() + this.#options.leaseMs;
    return true;
  }

  async finish(leaseId: string): Promise<void> {
    this.#leases.delete(leaseId);
  }

  // One process holds everything here: a lease handed over comes back to this same queue.
  async handOver(leaseId: string): Promise<HandedLease | undefined> {
    const lease = this.#leases.get(leaseId);
    if (!lease) return undefined;
    this.#leases.delete(leaseId);
    this.#handed.set(leaseId, lease);
    return lease;
  }

  async adopt(lease: HandedLease): Promise<boolean> {
    const handed = this.#handed.get(lease.id);
    if (!handed) return false;
    this.#handed.delete(lease.id);
    handed.expiresAt = this.#now() + this.#options.leaseMs;
    this.#leases.set(lease.id, handed);
    return true;
  }

  async extend(lease: HandedLease): Promise<boolean> {
    return this.#handed.has(lease.id) || this.heartbeat(lease.id);
  }

  async giveBack(leaseId: string): Promise<void> {
    const lease = this.#leases.get(leaseId);
    if (!lease) return;
    this.#leases.delete(leaseId);
    this.#waiting.unshift({ executionId: lease.executionId, labels: lease.labels });
    this.#serveClaims();
  }

  async remove(executionId: string): Promise<boolean> {
    const before = this.#waiting.length;
    this.#waiting = this.#waiting.filter((w) => w.executionId !== executionId);
    return this.#waiting.length < before;
  }

  async waiting(): Promise<QueuedWork[]> {
    return [...this.#waiting];
  }

  onExpired(listener: (lease: Lease) => void): void {
    this.#expired.add(listener);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    for (const claim of [...this.#claims]) claim.resolve([]);
  }

  #take(claimant: Claimant, capacity: number): Lease[] {
    const leases: Lease[] = [];
    const still: QueuedWork[] = [];
    for (const work of this.#waiting) {
      if (leases.length < capacity && hasLabels(claimant.labels, work.labels)) {
        const lease: HandedLease = {
          id: randomBytes(12).toString('base64url'),
          executionId: work.executionId,
          runner: claimant.name,
          expiresAt: this.#now() + this.#options.leaseMs,
          labels: [...work.labels],
        };
        this.#leases.set(lease.id, lease);
        leases.push(lease);
      } else {
        still.push(work);
      }
    }
    this.#waiting = still;
    return leases;
  }

  #serveClaims(): void {
    for (const claim of [...this.#claims]) {
      if (this.#waiting.length === 0) return;
      const leases = this.#take(claim.claimant, claim.capacity);
      if (leases.length > 0) claim.resolve(leases);
    }
  }

  #expire(): void {
    const now = this.#now();
    for (const lease of [...this.#leases.values()]) {
      if (lease.expiresAt > now) continue;
      this.#leases.delete(lease.id);
      for (const listener of this.#expired) listener(lease);
    }
  }
}
