// Concurrency groups: members of one group hold it one at a time, and the rest wait in line by
// age (oldest first; equal ages in the order they asked). With cancel_in_progress a newcomer
// does not wait for older members: it cancels them (the holder is told through its lease's
// signal and ends on its own, then the newcomer goes), and an older member arriving after a
// newer one is cancelled at once, since it is already stale.
//
// Pure bookkeeping in memory, no I/O: `gbcms run` keeps one per run for its steps, and the server
// one per kind (executions, steps) for all of a project's executions, keyed by project.

export interface GroupMember {
  /** Older members have smaller ages: an execution's number; 0 for every step of one run. */
  age: number;
  /** How messages name it: `execution #12`, `step 'deploy (env=a)'`. */
  label: string;
}

export interface Lease {
  /** Aborted when a newer member cancels this one; its reason is the message to end with. */
  readonly cancelled: AbortSignal;
  /** Lets the next member in. Idempotent. */
  release(): void;
}

export type Entry = { lease: Lease } | { cancelled: string };

export interface EnterOptions {
  cancelInProgress: boolean;
  /** Stops waiting: the entry resolves cancelled with the signal's reason (or 'terminated'). */
  signal?: AbortSignal;
  /** Called while the member waits, with the member holding the group; again when that changes. */
  waiting?: (holder: GroupMember) => void;
}

interface Holder {
  member: GroupMember;
  controller: AbortController;
}

interface Waiter {
  member: GroupMember;
  options: EnterOptions;
  admit(lease: Lease): void;
  cancel(reason: string): void;
}

interface Group {
  holder?: Holder;
  waiters: Waiter[];
}

export function cancelledBy(member: GroupMember, group: string): string {
  return `cancelled by ${member.label} in concurrency group ${group}`;
}

export function waitingFor(member: GroupMember, group: string): string {
  return `waiting for ${member.label} in concurrency group ${group}`;
}

export class ConcurrencyGroups {
  readonly #groups = new Map<string, Group>();

  /** Waits for `group` (a key: the server prefixes the project) and resolves with its lease. */
  enter(group: string, name: string, member: GroupMember, options: EnterOptions): Promise<Entry> {
    if (options.signal?.aborted) return Promise.resolve({ cancelled: abortReason(options.signal) });
    const state = this.#groups.get(group) ?? { waiters: [] };
    this.#groups.set(group, state);
    if (options.cancelInProgress) {
      const newer = newestOf(state, member.age);
      if (newer) {
        this.#dropIfEmpty(group, state);
        return Promise.resolve({ cancelled: cancelledBy(newer, name) });
      }
      const reason = cancelledBy(member, name);
      if (state.holder && state.holder.member.age < member.age) state.holder.controller.abort(reason);
      for (const waiter of state.waiters.filter((w) => w.member.age < member.age)) waiter.cancel(reason);
    }
    if (!state.holder && state.waiters.length === 0) {
      return Promise.resolve({ lease: this.#hold(group, state, member) });
    }
    return new Promise<Entry>((resolve) => {
      const onAbort = () => waiter.cancel(abortReason(options.signal));
      const settle = (entry: Entry) => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve(entry);
      };
      const waiter: Waiter = {
        member,
        options,
        admit: (lease) => settle({ lease }),
        cancel: (reason) => {
          const index = state.waiters.indexOf(waiter);
          if (index === -1) return;
          state.waiters.splice(index, 1);
          this.#dropIfEmpty(group, state);
          settle({ cancelled: reason });
        },
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      // After every member of the same age or older: oldest first, then first come.
      const before = state.waiters.findIndex((w) => w.member.age > member.age);
      state.waiters.splice(before === -1 ? state.waiters.length : before, 0, waiter);
      if (state.holder) options.waiting?.(state.holder.member);
    });
  }

  /** How many members hold or wait for groups: 0 once every lease is released. */
  get size(): number {
    let count = 0;
    for (const state of this.#groups.values()) count += state.waiters.length + (state.holder ? 1 : 0);
    return count;
  }

  #hold(group: string, state: Group, member: GroupMember): Lease {
    const holder: Holder = { member, controller: new AbortController() };
    state.holder = holder;
    let released = false;
    return {
      cancelled: holder.controller.signal,
      release: () => {
        if (released) return;
        released = true;
        state.holder = undefined;
        const next = state.waiters.shift();
        if (!next) {
          this.#dropIfEmpty(group, state);
          return;
        }
        next.admit(this.#hold(group, state, next.member));
        for (const waiter of state.waiters) waiter.options.waiting?.(next.member);
      },
    };
  }

  #dropIfEmpty(group: string, state: Group): void {
    if (!state.holder && state.waiters.length === 0 && this.#groups.get(group) === state) {
      this.#groups.delete(group);
    }
  }
}

/** The member of the group younger than `age`, the youngest, if any. */
function newestOf(state: Group, age: number): GroupMember | undefined {
  const members = [...(state.holder ? [state.holder.member] : []), ...state.waiters.map((w) => w.member)];
  let newest: GroupMember | undefined;
  for (const member of members) if (member.age > age && (!newest || member.age > newest.age)) newest = member;
  return newest;
}

function abortReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  return typeof reason === 'string' ? reason : 'terminated';
}
