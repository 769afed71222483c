// Which waiting executions may start: first come, first served, within a global limit and each
// project's own. A waiting execution of a full project does not hold back other projects'.
// An execution queues from its creation, while it still reads its pipeline file (its group must
// be known before it waits here): until then it holds back its project's later ones, so a quick
// read does not overtake a slow one.
// With several servers each keeps its own queue, and an execution it takes must also hold a
// slot in the database (cluster-slots.ts): one the database refuses goes back to its place here,
// `refused`, until it may try again.
// Pure bookkeeping, no I/O: the manager asks take() whenever something was added or released.

export interface SlotRequest {
  id: string;
  projectId: string;
  /** How many executions of the project may run at once; below 1 counts as 1. */
  projectLimit: number;
  /** Still reading its pipeline file: it may not start yet, nor may its project's later ones. */
  reading?: boolean;
  /**
   * The cluster-wide slot was refused (cluster-slots.ts): it may not start until it may try
   * again, nor may its project's later ones ('project': the project is full on every server
   * together) or any later one ('all': the global limit is reached on every server together).
   */
  refused?: 'project' | 'all';
}

export class SlotQueue<T extends SlotRequest> {
  readonly #maxRunning: number;
  #waiting: T[] = [];
  readonly #running = new Map<string, T>();
  readonly #runningPerProject = new Map<string, number>();
  /** Each item's place in arrival order, while it waits or runs: putBack() puts it back there. */
  readonly #arrival = new Map<string, number>();
  #arrivals = 0;

  constructor(maxRunning: number) {
    if (!Number.isInteger(maxRunning) || maxRunning < 1) {
      throw new RangeError(`maxRunning must be a whole number of at least 1, not ${maxRunning}`);
    }
    this.#maxRunning = maxRunning;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  get running(): number {
    return this.#running.size;
  }

  /** Waiting items, oldest first. */
  waitingItems(): readonly T[] {
    return this.#waiting;
  }

  runningItems(): T[] {
    return [...this.#running.values()];
  }

  isWaiting(id: string): boolean {
    return this.#waiting.some((item) => item.id === id);
  }

  isRunning(id: string): boolean {
    return this.#running.has(id);
  }

  enqueue(item: T): void {
    if (this.isWaiting(item.id) || this.#running.has(item.id)) {
      throw new Error(`execution ${item.id} is already queued`);
    }
    this.#waiting.push(item);
    this.#arrival.set(item.id, this.#arrivals++);
  }

  /** Takes a waiting item out of the queue; undefined when it is not waiting. */
  remove(id: string): T | undefined {
    const index = this.#waiting.findIndex((item) => item.id === id);
    if (index === -1) return undefined;
    const [item] = this.#waiting.splice(index, 1);
    this.#arrival.delete(id);
    return item;
  }

  /**
   * A running item goes back to waiting, at the place it had in arrival order, its slot free
   * (the database refused its cluster-wide one). False when it was not running.
   */
  putBack(id: string): boolean {
    const item = this.#running.get(id);
    if (!item) return false;
    this.#free(item);
    const place = this.#arrival.get(id) ?? Number.POSITIVE_INFINITY;
    const before = this.#waiting.findIndex((other) => (this.#arrival.get(other.id) ?? 0) > place);
    if (before === -1) this.#waiting.push(item);
    else this.#waiting.splice(before, 0, item);
    return true;
  }

  /** Moves every item that may start now to running and returns them, oldest first. */
  take(): T[] {
    const started: T[] = [];
    const still: T[] = [];
    const heldBack = new Set<string>();
    let allHeldBack = false;
    for (const item of this.#waiting) {
      const inProject = this.#runningPerProject.get(item.projectId) ?? 0;
      if (item.reading || item.refused === 'project') heldBack.add(item.projectId);
      if (item.refused === 'all') allHeldBack = true;
      if (
        !allHeldBack &&
        !heldBack.has(item.projectId) &&
        this.#running.size < this.#maxRunning &&
        inProject < Math.max(1, item.projectLimit)
      ) {
        this.#running.set(item.id, item);
        this.#runningPerProject.set(item.projectId, inProject + 1);
        started.push(item);
      } else {
        still.push(item);
      }
    }
    this.#waiting = still;
    return started;
  }

  /**
   * An item that runs already, taken over from a server that died: it holds a slot here from
   * now on, over the limits if need be (it is not stopped for them).
   */
  hold(item: T): void {
    if (this.isWaiting(item.id) || this.#running.has(item.id)) {
      throw new Error(`execution ${item.id} is already queued`);
    }
    this.#running.set(item.id, item);
    this.#runningPerProject.set(item.projectId, (this.#runningPerProject.get(item.projectId) ?? 0) + 1);
  }

  /** A running item ended: its slot is free. */
  release(id: string): void {
    const item = this.#running.get(id);
    if (!item) return;
    this.#free(item);
    this.#arrival.delete(id);
  }

  #free(item: T): void {
    this.#running.delete(item.id);
    const left = (this.#runningPerProject.get(item.projectId) ?? 1) - 1;
    if (left > 0) this.#runningPerProject.set(item.projectId, left);
    else this.#runningPerProject.delete(item.projectId);
  }
}
