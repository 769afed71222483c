// The live event stream of one execution: numbers events 1, 2, 3..., keeps the latest ones in
// memory, and serves each subscriber what it has not seen before following it live. Events that
// fell out of the memory window are read back (log text from the step's log file, reports from
// the store) with their original ids, so a reconnect with Last-Event-ID resumes exactly, however
// far behind it is.
import type { StoredReport } from '../store/index.ts';
import { type EventBody, logEvent, numbered } from './event-shapes.ts';
import { EvictedEvents } from './evicted-events.ts';
import { LogCursor } from './log-cursor.ts';
import type { ExecutionEvent } from './types.ts';

export const DEFAULT_MAX_BUFFERED_EVENTS = 20_000;
/** Evicted events read back per step of a catch-up: bounds what one subscriber holds at once. */
const CATCH_UP_BATCH = 1000;

export type EventListener = (event: ExecutionEvent) => void;

export interface EventStreamOptions {
  /** Events kept whole in memory. */
  maxBuffered?: number;
  /** Absolute path of a step's log file, once the run knows it. */
  logFile(step: string): string | undefined;
  /** A listener threw and was dropped. */
  onListenerError(error: unknown): void;
  /**
   * The execution's stored reports with from <= seq <= to. With it, report events (which are
   * published only once stored) leave memory like log lines; without it they stay whole.
   */
  readReports?(from: number, to: number): Promise<StoredReport[]>;
}

interface Subscriber {
  listener: EventListener;
  /** The last id this subscriber has been given (or asked to start after). */
  lastId: number;
  /** Caught up: publish() hands it events directly. */
  live: boolean;
  closed: boolean;
  cursors: Map<string, LogCursor>;
}

export class EventStream {
  readonly #options: EventStreamOptions;
  readonly #ring: (ExecutionEvent | undefined)[];
  readonly #evicted: EvictedEvents;
  readonly #subscribers = new Set<Subscriber>();
  #nextId = 1;
  /** The latest id subscribers may be given: lastId, but for events published while held. */
  #visible = 0;
  #holds = 0;
  #keeper: (() => Promise<void>) | undefined;
  #keptId = 0;
  #end: ExecutionEvent | undefined;

  constructor(options: EventStreamOptions) {
    this.#options = options;
    const capacity = options.maxBuffered ?? DEFAULT_MAX_BUFFERED_EVENTS;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`maxBuffered must be a whole number of at least 1, not ${capacity}`);
    }
    this.#ring = new Array<ExecutionEvent | undefined>(capacity);
    this.#evicted = new EvictedEvents({ storedReports: options.readReports !== undefined });
  }

  /**
   * For an execution taken up again after a restart, on a new stream: event 1 is `first` (its
   * status), events 2..reports+1 are its stored reports 1..reports, read back from the store
   * when a subscriber gets to them. Live events follow.
   */
  resumeStored(first: EventBody, reports: number): void {
    if (this.lastId !== 0) throw new Error('resumeStored() is for a stream without events');
    this.#evicted.add(numbered(1, first));
    for (let seq = 1; seq <= reports; seq++) this.#evicted.addStoredReport(seq);
    this.#nextId = reports + 2;
    this.#visible = this.lastId;
  }

  /**
   * For an execution followed on from a server that died: its events go on from after `id`,
   * that server's last, so a page that followed it there resumes here with Last-Event-ID.
   */
  continueAfter(id: number, tail: readonly ExecutionEvent[] = []): void {
    if (this.lastId !== 0) throw new Error('continueAfter() is for a stream without events');
    // That server's latest events, whole, ending at `id`: a page behind by a few gets them.
    const first = id - tail.length + 1;
    const whole = first >= 1 && tail.every((event, i) => event.id === first + i && event.type !== 'end');
    const kept = whole ? tail : [];
    this.#evicted.skipTo(id - kept.length);
    for (const event of kept) this.#keep(event);
    this.#nextId = id + 1;
    this.#visible = id;
  }

  /** Up to `count` of the latest events still in memory, oldest first. */
  recent(count: number): ExecutionEvent[] {
    const events: ExecutionEvent[] = [];
    const from = Math.max(this.lastId - count + 1, this.#evicted.upTo + 1, 1);
    for (let id = from; id <= this.lastId; id++) {
      const event = this.#ring[(id - 1) % this.#ring.length];
      if (event?.id === id) events.push(event);
    }
    return events;
  }

  /**
   * Events published from now until the returned release() reach no subscriber before it: what
   * a successor needs to go on from them is kept first (several servers), so no page has seen
   * an event its successor would number again.
   */
  hold(): () => void {
    this.#holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      if (this.#holds > 0) return;
      if (this.#unkept()) this.#keepThenShow();
      else this.#show();
    };
  }

  /**
   * While set, no subscriber sees an event before it is kept: one published outside a hold
   * (a forge status notice) or under one after what the holder kept (markKept) waits for
   * `keep`, which keeps every event published before it was called. A runner's run followed
   * with several servers keeps its stream id for a successor this way (successor-keeping.ts);
   * an event a page saw but the successor did not know of would be numbered again there.
   */
  keepEachWith(keep: (() => Promise<void>) | undefined): void {
    this.#keeper = keep;
    this.#keptId = this.lastId;
  }

  /** Events up to `id` are kept (see keepEachWith). */
  markKept(id: number): void {
    if (id > this.#keptId) this.#keptId = id;
  }

  #unkept(): boolean {
    return this.#keeper !== undefined && this.#keptId < this.lastId;
  }

  /** Holds what is published from now until a keep (failed or not) ends; then shows or keeps again. */
  #keepThenShow(): void {
    const keep = this.#keeper;
    if (!keep) return;
    const upTo = this.lastId;
    const release = this.hold();
    const done = () => {
      this.markKept(upTo);
      release();
    };
    void keep().then(done, done);
  }

  /** Every event published so far reaches the subscribers that follow live. */
  #show(): void {
    if (this.#visible === this.lastId) return;
    this.#visible = this.lastId;
    for (const subscriber of [...this.#subscribers]) {
      if (!subscriber.live) continue;
      subscriber.live = false;
      void this.#pump(subscriber);
    }
  }

  /** Id of the latest event, 0 before the first. */
  get lastId(): number {
    return this.#nextId - 1;
  }

  get ended(): boolean {
    return this.#end !== undefined;
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  publish(body: EventBody): ExecutionEvent {
    if (this.#end) throw new Error('the execution has ended: no more events');
    const event = numbered(this.#nextId, body);
    this.#nextId += 1;
    this.#keep(event);
    if (event.type === 'end') this.#end = event;
    if (this.#holds > 0) return event;
    if (this.#unkept()) {
      this.#keepThenShow();
      return event;
    }
    this.#visible = event.id;
    for (const subscriber of [...this.#subscribers]) {
      if (subscriber.live) this.#deliver(subscriber, event);
    }
    return event;
  }

  /**
   * Events after `afterId` (all without it), then live ones, ending with `end`; a subscriber that
   * has already seen `end` gets it again, so it knows to stop. An id this stream never gave out
   * counts as none. Delivery starts on a later turn of the event loop.
   */
  subscribe(listener: EventListener, afterId?: number): () => void {
    const known =
      afterId !== undefined && Number.isInteger(afterId) && afterId >= 0 && afterId <= this.lastId;
    const subscriber: Subscriber = {
      listener,
      lastId: known ? afterId : 0,
      live: false,
      closed: false,
      cursors: new Map(),
    };
    this.#subscribers.add(subscriber);
    setImmediate(() => void this.#pump(subscriber));
    return () => this.#close(subscriber);
  }

  async #pump(subscriber: Subscriber): Promise<void> {
    try {
      while (!subscriber.closed) {
        const next = subscriber.lastId + 1;
        if (next > this.#visible) {
          // Caught up. No await since the check: nothing was published in between.
          if (this.#end && this.#end.id <= this.#visible) this.#deliver(subscriber, this.#end);
          else {
            subscriber.live = true;
            this.#closeCursors(subscriber);
          }
          return;
        }
        if (next > this.#evicted.upTo) {
          const event = this.#ring[(next - 1) % this.#ring.length];
          if (event?.id !== next) throw new Error(`event ${next} is missing from the buffer`);
          this.#deliver(subscriber, event);
          continue;
        }
        await this.#catchUp(subscriber, next, Math.min(this.#evicted.upTo, next + CATCH_UP_BATCH - 1));
      }
    } catch (error) {
      this.#options.onListenerError(error);
      this.#close(subscriber);
    }
  }

  /**
   * Events from..to, all evicted, rebuilt and delivered. Lines no longer on disk and reports no
   * longer stored are skipped.
   */
  async #catchUp(subscriber: Subscriber, from: number, to: number): Promise<void> {
    const reports = await this.#storedReports(from, to);
    if (subscriber.closed) return;
    const events: ExecutionEvent[] = [];
    for (let id = from; id <= to; id++) {
      const entry = this.#evicted.entry(id);
      if (entry.kind === 'event') events.push(entry.event);
      if (entry.kind === 'report') {
        const stored = reports.get(entry.seq);
        if (stored) events.push(numbered(id, { type: 'report', ...stored }));
      }
      if (entry.kind !== 'log') continue;
      let cursor = subscriber.cursors.get(entry.step);
      if (!cursor) {
        cursor = new LogCursor(this.#options.logFile(entry.step));
        subscriber.cursors.set(entry.step, cursor);
      }
      const line = await cursor.lineAt(entry.seq);
      if (subscriber.closed) return;
      if (line) events.push(numbered(id, logEvent(entry.step, line)));
    }
    for (const event of events) {
      if (subscriber.closed) return;
      this.#deliver(subscriber, event);
    }
    if (!subscriber.closed) subscriber.lastId = Math.max(subscriber.lastId, to);
  }

  /** The stored reports behind the evicted events from..to, by seq. */
  async #storedReports(from: number, to: number): Promise<Map<number, StoredReport>> {
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (let id = from; id <= to; id++) {
      const entry = this.#evicted.entry(id);
      if (entry.kind !== 'report') continue;
      first = Math.min(first, entry.seq);
      last = Math.max(last, entry.seq);
    }
    const read = this.#options.readReports;
    if (last === 0 || !read) return new Map();
    // Reports are published in seq order, so the ones among these events are one range of seqs.
    const rows = await read(first, last);
    return new Map(rows.map((row) => [row.seq, row]));
  }

  /** Into the memory window, the event it pushes out kept as evicted. */
  #keep(event: ExecutionEvent): void {
    const slot = (event.id - 1) % this.#ring.length;
    const evicted = this.#ring[slot];
    if (evicted) this.#evicted.add(evicted);
    this.#ring[slot] = event;
  }

  #deliver(subscriber: Subscriber, event: ExecutionEvent): void {
    subscriber.lastId = Math.max(subscriber.lastId, event.id);
    try {
      subscriber.listener(event);
    } catch (error) {
      this.#options.onListenerError(error);
      this.#close(subscriber);
      return;
    }
    if (event.type === 'end') this.#close(subscriber);
  }

  #close(subscriber: Subscriber): void {
    subscriber.closed = true;
    subscriber.live = false;
    this.#subscribers.delete(subscriber);
    this.#closeCursors(subscriber);
  }

  #closeCursors(subscriber: Subscriber): void {
    for (const cursor of subscriber.cursors.values()) void cursor.close();
    subscriber.cursors.clear();
  }
}
