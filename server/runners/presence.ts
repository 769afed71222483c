// Which runners are connected now, with what they said about themselves: kept in memory, since
// it only means something while this server runs (the store keeps last_seen_at for listings).
import type { Runner } from '../store/index.ts';
import { CONNECTED_MS } from './protocol.ts';

export interface RunnerPresence {
  name: string;
  /** Registered labels and those it declared, each once, sorted. */
  labels: string[];
  version: string;
  backend: string;
  capacity: number;
  lastSeen: number;
  /** Claims waiting for work now: a runner long-polling counts as connected. */
  claiming: number;
}

export class Presence {
  readonly #runners = new Map<string, RunnerPresence>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** It claimed: what it is and what it takes. */
  claimed(
    runner: Runner,
    about: { labels: readonly string[]; version: string; backend: string; capacity: number },
  ) {
    const current = this.#runners.get(runner.name);
    const presence: RunnerPresence = {
      name: runner.name,
      labels: [...new Set([...runner.labels, ...about.labels])].sort(),
      version: about.version,
      backend: about.backend,
      capacity: about.capacity,
      lastSeen: this.#now(),
      claiming: current?.claiming ?? 0,
    };
    this.#runners.set(runner.name, presence);
    return presence;
  }

  seen(name: string): void {
    const presence = this.#runners.get(name);
    if (presence) presence.lastSeen = this.#now();
  }

  /** Its token was revoked: it is no longer connected, whatever it still tries. */
  forget(name: string): void {
    this.#runners.delete(name);
  }

  get(name: string): RunnerPresence | undefined {
    return this.#runners.get(name);
  }

  isConnected(name: string): boolean {
    const presence = this.#runners.get(name);
    return (
      presence !== undefined && (presence.claiming > 0 || this.#now() - presence.lastSeen < CONNECTED_MS)
    );
  }

  connected(): RunnerPresence[] {
    return [...this.#runners.values()].filter((p) => this.isConnected(p.name));
  }
}
