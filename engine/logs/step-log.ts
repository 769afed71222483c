// One step attempt's log: splits both output streams into lines, masks secrets, caps the size,
// appends JSON records to the step's log file and fans lines out to live listeners. A chunk of
// plain output is masked, sized and stored as one run (one regex pass, one JSON record): the
// per-line work is what limits how fast a chatty step can print.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { OutputChunk } from '../backends/types.ts';
import { LineSplitter, type SplitLine } from './line-splitter.ts';
import { formatBytes, type LogLine } from './log-line.ts';
import { createMasker, type Masker } from './masker.ts';

export const DEFAULT_MAX_LOG_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PARTIAL_FLUSH_MS = 250;

/** Lines are written in batches of about this many characters: one syscall, not one per line. */
const BATCH_CHARS = 64 * 1024;
/** Above this much unwritten data, write() asks the caller to await drained(). */
const WRITE_HIGH_WATER = 1024 * 1024;
/** A partial line that keeps changing without a newline is still shown after this many flush periods. */
const MAX_HOLD_PERIODS = 4;

export interface StepLogOptions {
  /** Path of the step's log file; its folder is created, the file appended to. */
  file: string;
  /** Secret values to mask; values shorter than 4 characters are ignored. */
  secrets: readonly string[];
  /** Cap on the stored (masked) text of the step; past it lines are counted, not kept. */
  maxBytes?: number;
  now?: () => Date;
  /** Silence after which a line without newline is shown anyway. */
  partialFlushMs?: number;
  /** Tells report lines apart, so the file and observers carry them flagged. */
  reports?: ReportLines;
}

export interface ReportLines {
  /** Only lines that start with this (`::gbcms `) are offered to `classify`. */
  prefix: string;
  /** Whether the line is a report; it may log a notice, which is then stored before the line. */
  classify(line: LogLine): boolean;
}

interface StreamState {
  readonly splitter: LineSplitter;
  timer: NodeJS.Timeout | undefined;
  heldSince: number;
}

export class StepLog {
  readonly #masker: Masker;
  readonly #maxBytes: number;
  readonly #now: () => Date;
  readonly #reports: ReportLines | undefined;
  readonly #flushMs: number;
  readonly #out: WriteStream;
  readonly #streams: Record<'stdout' | 'stderr', StreamState>;
  readonly #listeners = new Set<(line: LogLine) => void>();
  /** Scratch array reused by every write: the hot path allocates no per-chunk array. */
  readonly #scratch: SplitLine[] = [];
  #seq = 0;
  #bytes = 0;
  #stored = 0;
  #truncated = false;
  #batch: string[] = [];
  #batchChars = 0;
  #flushQueued = false;
  #error: Error | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: StepLogOptions) {
    this.#masker = createMasker(options.secrets);
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_LOG_BYTES;
    this.#now = options.now ?? (() => new Date());
    this.#reports = options.reports;
    this.#flushMs = options.partialFlushMs ?? DEFAULT_PARTIAL_FLUSH_MS;
    const safeCut = this.#masker.safeCut;
    const stream = (): StreamState => ({
      splitter: new LineSplitter({ safeCut }),
      timer: undefined,
      heldSince: 0,
    });
    this.#streams = { stdout: stream(), stderr: stream() };
    mkdirSync(dirname(options.file), { recursive: true });
    this.#out = createWriteStream(options.file, { flags: 'a', highWaterMark: WRITE_HIGH_WATER });
    this.#out.on('error', (error) => {
      this.#error ??= error;
    });
  }

  /** Lines stored so far, engine lines and the truncation marker included. */
  get lines(): number {
    return this.#seq;
  }

  /** Bytes of step output seen, kept or not (raw bytes once truncated). */
  get bytes(): number {
    return this.#bytes;
  }

  get truncated(): boolean {
    return this.#truncated;
  }

  /**
   * Takes one chunk of step output. Never throws. Returns false when the file is behind:
   * a caller that can pause its source should then await drained().
   */
  write(chunk: OutputChunk): boolean {
    if (this.#closed) return true;
    if (this.#truncated) {
      this.#bytes += chunk.data.length;
      return true;
    }
    const state = this.#streams[chunk.stream];
    const out = this.#scratch;
    state.splitter.push(chunk.data, out);
    if (out.length > 0) this.#emitAll(chunk.stream, out);
    this.#armPartialFlush(chunk.stream, state);
    return !this.#out.writableNeedDrain;
  }

  /** Resolves once the file has caught up with what was written. */
  drained(): Promise<void> {
    if (!this.#out.writableNeedDrain || this.#out.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#out.off('drain', done);
        this.#out.off('close', done);
        resolve();
      };
      this.#out.on('drain', done);
      this.#out.on('close', done);
    });
  }

  /** The engine's own line(s). Kept even after truncation: they explain what happened. */
  system(text: string): void {
    if (this.#closed) return;
    const time = this.#now().toISOString();
    for (const line of text.split(/\r?\n/)) {
      this.#store({ seq: ++this.#seq, time, stream: 'system', text: this.#masker.mask(line) });
    }
  }

  /** Live lines from now on; returns the unsubscribe function. */
  subscribe(listener: (line: LogLine) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Ends the lines held on both streams as they are, e.g. when a step attempt ended, so the next
   * attempt's output does not continue the last line of this one.
   */
  endLines(): void {
    if (this.#closed || this.#truncated) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      const state = this.#streams[stream];
      clearTimeout(state.timer);
      state.timer = undefined;
      const out = this.#scratch;
      state.splitter.end(out);
      if (out.length > 0) this.#emitAll(stream, out);
    }
  }

  /** Flushes held lines, writes everything and closes the file. Safe to call more than once. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.endLines();
      this.#closed = true;
      this.#closing = this.#finish();
    }
    return this.#closing;
  }

  async #finish(): Promise<void> {
    this.#flushBatch();
    this.#listeners.clear();
    await new Promise<void>((resolve) => {
      if (this.#out.destroyed) return resolve();
      this.#out.end(() => resolve());
      this.#out.once('error', () => resolve());
    });
    if (this.#error) throw this.#error;
  }

  #emitAll(stream: 'stdout' | 'stderr', out: SplitLine[]): void {
    const time = this.#now().toISOString();
    for (const line of out) {
      if (this.#truncated) break;
      if (line.several) this.#emitRun(stream, this.#masker.mask(line.text), time);
      else this.#emit(stream, this.#masker.mask(line.text), line.partial, time);
    }
    out.length = 0;
  }

  /** Whole masked lines joined by `\n`: sized at once and stored as runs, report lines apart. */
  #emitRun(stream: 'stdout' | 'stderr', text: string, time: string): void {
    const lines = text.split('\n');
    const size = Buffer.byteLength(text) + 1;
    if (this.#stored + size > this.#maxBytes) {
      // Near the cap, line by line: the cut falls exactly where the cap does.
      for (const line of lines) if (!this.#truncated) this.#emit(stream, line, false, time);
      return;
    }
    this.#bytes += size;
    this.#stored += size;
    const prefix = this.#reports?.prefix;
    if (prefix === undefined || !text.includes(prefix)) {
      this.#storeRun(stream, time, lines, text);
      return;
    }
    let from = 0;
    for (let i = 0; i < lines.length; i++) {
      const candidate = lines[i] as string;
      if (!candidate.startsWith(prefix)) continue;
      // The lines before go first: a notice the classifier logs must follow them.
      if (from < i) this.#storeRun(stream, time, lines.slice(from, i));
      this.#storeLine(stream, candidate, false, time);
      from = i + 1;
    }
    if (from < lines.length) this.#storeRun(stream, time, from === 0 ? lines : lines.slice(from));
  }

  /** One masked line, kept if it fits under the cap. */
  #emit(stream: 'stdout' | 'stderr', text: string, partial: boolean, time: string): void {
    const size = Buffer.byteLength(text) + 1;
    this.#bytes += size;
    if (this.#stored + size > this.#maxBytes) {
      this.#truncate(time);
      return;
    }
    this.#stored += size;
    this.#storeLine(stream, text, partial, time);
  }

  #storeLine(stream: 'stdout' | 'stderr', text: string, partial: boolean, time: string): void {
    const line: LogLine = partial ? { seq: 0, time, stream, text, partial } : { seq: 0, time, stream, text };
    const reports = this.#reports;
    // Classified before it is numbered: a notice the classifier logs comes first, in order.
    if (reports !== undefined && text.startsWith(reports.prefix) && reports.classify(line))
      line.report = true;
    line.seq = ++this.#seq;
    this.#store(line);
  }

  /** Lines stored as one record (see log-line.ts); listeners still get them one by one. */
  #storeRun(
    stream: 'stdout' | 'stderr',
    time: string,
    lines: readonly string[],
    text = lines.join('\n'),
  ): void {
    const first = this.#seq + 1;
    this.#seq += lines.length;
    this.#append(`{"seq":${first},"time":"${time}","stream":"${stream}","text":${JSON.stringify(text)}}`);
    if (this.#listeners.size === 0) return;
    for (let i = 0; i < lines.length; i++)
      this.#tell({ seq: first + i, time, stream, text: lines[i] as string });
  }

  #truncate(time: string): void {
    this.#truncated = true;
    for (const state of Object.values(this.#streams)) {
      clearTimeout(state.timer);
      state.timer = undefined;
    }
    const text = `log truncated at ${formatBytes(this.#maxBytes)}; the step goes on`;
    this.#store({ seq: ++this.#seq, time, stream: 'system', text, truncated: true });
  }

  #store(line: LogLine): void {
    this.#append(toJson(line));
    this.#tell(line);
  }

  #append(json: string): void {
    this.#batch.push(json);
    this.#batchChars += json.length + 1;
    if (this.#batchChars >= BATCH_CHARS) this.#flushBatch();
    else if (!this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(() => this.#flushBatch());
    }
  }

  #tell(line: LogLine): void {
    for (const listener of this.#listeners) {
      try {
        listener(line);
      } catch {
        // A broken viewer must not break the step's log.
      }
    }
  }

  #flushBatch(): void {
    this.#flushQueued = false;
    if (this.#batch.length === 0) return;
    const data = `${this.#batch.join('\n')}\n`;
    this.#batch = [];
    this.#batchChars = 0;
    if (!this.#out.destroyed && !this.#out.writableEnded) this.#out.write(data);
  }

  #armPartialFlush(stream: 'stdout' | 'stderr', state: StreamState): void {
    if (!state.splitter.hasPending) {
      clearTimeout(state.timer);
      state.timer = undefined;
      return;
    }
    if (state.timer === undefined) {
      state.heldSince = Date.now();
      state.timer = setTimeout(() => this.#flushPartial(stream, state), this.#flushMs);
      state.timer.unref();
    } else if (Date.now() - state.heldSince < this.#flushMs * MAX_HOLD_PERIODS) {
      state.timer.refresh();
    }
  }

  #flushPartial(stream: 'stdout' | 'stderr', state: StreamState): void {
    state.timer = undefined;
    if (this.#closed || this.#truncated) return;
    const out = this.#scratch;
    state.splitter.flushPartial(out);
    if (out.length > 0) this.#emitAll(stream, out);
  }
}

/** JSON.stringify(line) with the fixed keys written by hand: the log path spends most of its time here. */
function toJson(line: LogLine): string {
  const flags =
    line.partial || line.truncated || line.report
      ? `${line.partial ? ',"partial":true' : ''}${line.truncated ? ',"truncated":true' : ''}${line.report ? ',"report":true' : ''}`
      : '';
  // An ISO timestamp needs no escaping: one JSON.stringify per line (the text) is enough.
  return `{"seq":${line.seq},"time":"${line.time}","stream":"${line.stream}","text":${JSON.stringify(line.text)}${flags}}`;
}
