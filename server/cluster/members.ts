// The `gbcms serve` processes sharing one database, as this one sees them. Each registers under
// its name (gbcms serve --server-name) with the URL its peers reach it at (--advertise-url),
// and beats every BEAT_MS; one silent for DEAD_AFTER_MS is taken for dead and a live one takes
// its executions over (manager.takeOverFrom). The list is read again at every beat, so asking
// who manages an execution costs no query.
import { randomBytes } from 'node:crypto';
import type { ServerRow, Store } from '../store/index.ts';

export const BEAT_MS = 2_000;
/** Five beats missed: a peer busy for a second or two is not taken for dead. */
export const DEAD_AFTER_MS = 10_000;
/** A beat late: the leases a peer follows are kept alive from here until it is known dead or beats. */
export const SILENT_AFTER_MS = BEAT_MS + BEAT_MS / 2;

export interface Peer {
  name: string;
  url: string;
}

export interface MembersOptions {
  store: Store;
  name: string;
  version: string;
  /** SQLite: one server only, so every other name is a former process of this one. */
  alone: boolean;
  now?: () => number;
  onError(error: unknown): void;
  /** Another process beats under this name too: two servers were given one name. */
  onNameClash(): void;
}

export class Members {
  readonly name: string;
  /** Where peers reach this server; known once it listens (start()). */
  url = '';
  readonly incarnation = randomBytes(9).toString('base64url');
  readonly #options: MembersOptions;
  readonly #now: () => number;
  #rows: ServerRow[] = [];
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  readonly #onBeat = new Set<() => Promise<void>>();

  constructor(options: MembersOptions) {
    this.#options = options;
    this.name = options.name;
    this.#now = options.now ?? Date.now;
  }

  /** Reads who else is there, for recover() before this server listens. */
  async load(): Promise<void> {
    this.#rows = await this.#options.store.servers.list();
  }

  /** Registers this server at `url` and beats from now on. */
  async start(url: string): Promise<void> {
    const { store, name, version } = this.#options;
    this.url = url;
    await store.servers.register({ name, url, incarnation: this.incarnation, version });
    this.#rows = await store.servers.list();
    this.#timer = setInterval(() => {
      this.#beating ??= this.#beat().finally(() => {
        this.#beating = undefined;
      });
    }, BEAT_MS);
    this.#timer.unref();
  }

  /** Runs after every beat (the dead-peer sweep). */
  afterBeat(task: () => Promise<void>): void {
    this.#onBeat.add(task);
  }

  /** Whether `server` (an execution's) is this process, or no named server. */
  isMine(server: string | null): boolean {
    return server === null || server === this.name;
  }

  /** The live peer managing an execution of `server`; undefined when it is this one, unnamed or dead. */
  peer(server: string | null): Peer | undefined {
    if (this.isMine(server) || this.#options.alone) return undefined;
    const row = this.#rows.find((r) => r.name === server);
    return row && this.#alive(row) ? { name: row.name, url: row.url } : undefined;
  }

  /**
   * peer(), after reading the list again when it does not show `server` alive: a server that
   * joined (or beat) since the last beat here is not taken for gone.
   */
  async findPeer(server: string | null): Promise<Peer | undefined> {
    if (this.isMine(server) || this.#options.alone) return undefined;
    const known = this.peer(server);
    if (known) return known;
    await this.load();
    return this.peer(server);
  }

  /** Whether any other server beats: without peers nothing is forwarded and nothing looked up. */
  get hasPeers(): boolean {
    return !this.#options.alone && this.#rows.some((row) => row.name !== this.name && this.#alive(row));
  }

  /** Servers whose executions this one may take: silent ones, or (alone) every other name. */
  isGone(server: string | null): boolean {
    if (this.isMine(server)) return false;
    if (this.#options.alone) return true;
    const row = this.#rows.find((r) => r.name === server);
    return row === undefined || !this.#alive(row);
  }

  /** Other servers that missed beats (dead ones too): maybe dying, maybe only busy. */
  silent(): ServerRow[] {
    return this.#rows.filter(
      (row) => row.name !== this.name && this.#now() - Date.parse(row.last_seen_at) >= SILENT_AFTER_MS,
    );
  }

  /** Registered servers taken for dead now. */
  gone(): ServerRow[] {
    return this.#rows.filter((row) => row.name !== this.name && this.isGone(row.name));
  }

  /** A dead server whose executions are all taken up: its row goes (unless it came back meanwhile). */
  async forget(row: ServerRow): Promise<void> {
    await this.#options.store.servers.remove(row.name, row.incarnation);
    this.#rows = this.#rows.filter((r) => r !== row);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#beating;
    // Its row stays, silent: a peer takes up what it leaves pending, then forgets it.
    await this.#options.store.servers.retire(this.name, this.incarnation).catch(this.#options.onError);
  }

  #alive(row: ServerRow): boolean {
    return this.#now() - Date.parse(row.last_seen_at) < DEAD_AFTER_MS;
  }

  async #beat(): Promise<void> {
    const { store } = this.#options;
    try {
      if (!(await store.servers.beat(this.name, this.incarnation))) {
        this.#options.onNameClash();
        return;
      }
      this.#rows = await store.servers.list();
      for (const task of this.#onBeat) await task();
    } catch (error) {
      this.#options.onError(error);
    }
  }
}
