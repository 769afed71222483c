// The dispatch seam between the server and its runners. What is queued is a whole execution,
// not a step: its steps share one workspace (files a step writes are the next step's input),
// and a workspace lives on one machine. Implementations: the in-process queue (memory-queue.ts),
// used by default, and BullMQ on Redis (bullmq-work-queue.ts, `gbcms serve --queue`).

export interface QueuedWork {
  executionId: string;
  /** A runner must have every one of these labels to take the work (planLabels). */
  labels: readonly string[];
}

/** Who asks for work: its name (for leases and pages) and the labels it has. */
export interface Claimant {
  name: string;
  labels: readonly string[];
}

/** A runner's hold on one execution: it must heartbeat before `expiresAt` or lose it. */
export interface Lease {
  id: string;
  executionId: string;
  runner: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** A lease passed from the server that claimed it to the one managing its execution. */
export interface HandedLease extends Lease {
  labels: string[];
}

export interface WorkQueue {
  enqueue(work: QueuedWork): Promise<void>;
  /**
   * Up to `capacity` works the claimant has every label of, oldest first. Waits up to
   * `waitMs` (or until `signal` aborts) for the first one; resolves empty if none came.
   */
  claim(claimant: Claimant, capacity: number, waitMs: number, signal?: AbortSignal): Promise<Lease[]>;
  /** Extends the lease; false when it is lost (expired, finished, or never existed). */
  heartbeat(leaseId: string): Promise<boolean>;
  /** The work is done (whatever its outcome): the lease ends without an expiry. */
  finish(leaseId: string): Promise<void>;
  /**
   * Stops following a lease this process claimed, so that the server managing the execution
   * adopts it (several servers, one Redis): its lock stays as it is. Undefined when not held here.
   */
  handOver(leaseId: string): Promise<HandedLease | undefined>;
  /** Follows a lease another process claimed (heartbeats, finish, expiry); false when it is lost already. */
  adopt(lease: HandedLease): Promise<boolean>;
  /**
   * Extends a lease no live process follows (the server following it died and no other has
   * taken it up yet), so that it outlasts the wait for a successor; false when it is lost.
   */
  extend(lease: HandedLease): Promise<boolean>;
  /** Puts held work back in line, untouched: it could not be handed to its runner. */
  giveBack(leaseId: string): Promise<void>;
  /** Takes waiting work out of the queue (terminated before a runner took it); false when not waiting. */
  remove(executionId: string): Promise<boolean>;
  /** Waiting works, oldest first. */
  waiting(): Promise<QueuedWork[]>;
  /** Called once for each lease that expired without a heartbeat. */
  onExpired(listener: (lease: Lease) => void): void;
  /** Stops the expiry sweep and answers pending claims with nothing. */
  close(): Promise<void>;
}

/** Whether `have` holds every label of `need`. */
export function hasLabels(have: readonly string[], need: readonly string[]): boolean {
  return need.every((label) => have.includes(label));
}
