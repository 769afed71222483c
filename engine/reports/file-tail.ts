// Follows a file the step appends JSON lines to ($GBCMS_REPORTS), through whatever reads the
// step's files (an archive from Backend.fetchArchive): polled while the step runs, read once
// more when it ends.
// Only complete lines are handed on; a partial last line waits for its newline (or for
// finish(), when nothing more can come). Reading stops for good at a byte cap.
//
// A read may cost more than its new bytes (archives carry whole files, so each poll copies the
// whole file): the interval stretches to keep reading under ~5% of the time.

export interface FileTailOptions {
  /** Bytes from `offset` on, at most `maxBytes`; undefined when the file is not there (yet). */
  read(offset: number, maxBytes: number): Promise<Buffer | undefined>;
  onLine(line: string): void;
  /** Told once per kind of trouble: the cap, an overlong line, a failed last read. */
  onProblem(message: string): void;
  intervalMs?: number;
  maxBytes?: number;
  maxLineBytes?: number;
}

const DEFAULT_INTERVAL_MS = 1000;
const MAX_INTERVAL_MS = 30_000;
/** Wait this many times as long as the last read took. */
const COST_FACTOR = 20;
const NEWLINE = 0x0a;

export class FileTail {
  readonly #read: FileTailOptions['read'];
  readonly #onLine: FileTailOptions['onLine'];
  readonly #onProblem: FileTailOptions['onProblem'];
  readonly #intervalMs: number;
  readonly #maxBytes: number;
  readonly #maxLineBytes: number;
  /** Bytes of the file consumed so far. */
  #offset = 0;
  /** The start of a line whose newline has not been read yet. */
  #pending: Buffer = Buffer.alloc(0);
  /** Dropping an overlong line until its newline. */
  #skipping = false;
  #capped = false;
  #told = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #running = false;
  #lastError: unknown;

  constructor(options: FileTailOptions) {
    this.#read = options.read;
    this.#onLine = options.onLine;
    this.#onProblem = options.onProblem;
    this.#intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxLineBytes = options.maxLineBytes ?? 64 * 1024;
  }

  /** Bytes of the file read so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Starts polling (again, after stop(): the offset is kept). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(this.#intervalMs);
  }

  /** Stops polling and reads once more; what is complete by now is handed on. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#polling;
    await this.poll();
    if (this.#lastError !== undefined) {
      this.#tell('read', `could not read $GBCMS_REPORTS: ${errorText(this.#lastError)}`);
    }
  }

  /** Nothing more will be written: a last line without its newline is handed on as it is. */
  finish(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    if (this.#pending.length > 0 && !this.#skipping) this.#line(this.#pending);
    this.#pending = Buffer.alloc(0);
    this.#skipping = false;
  }

  /** One read. Never rejects; overlapping calls share the read in flight. */
  poll(): Promise<void> {
    this.#polling ??= this.#pollOnce().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    if (this.#capped) return;
    let data: Buffer | undefined;
    try {
      data = await this.#read(this.#offset, this.#maxBytes - this.#offset);
      this.#lastError = undefined;
    } catch (error) {
      this.#lastError = error;
      return;
    }
    if (!data || data.length === 0) return;
    this.#offset += data.length;
    this.#consume(data);
    if (this.#offset >= this.#maxBytes) {
      this.#capped = true;
      this.#tell('cap', `$GBCMS_REPORTS passed ${this.#maxBytes} bytes; the rest of it is not read`);
    }
  }

  #consume(data: Buffer): void {
    let start = 0;
    for (let nl = data.indexOf(NEWLINE); nl !== -1; nl = data.indexOf(NEWLINE, start)) {
      const piece = data.subarray(start, nl);
      if (this.#skipping) {
        this.#skipping = false;
      } else if (this.#pending.length + piece.length > this.#maxLineBytes) {
        this.#overlong();
      } else {
        this.#line(this.#pending.length === 0 ? piece : Buffer.concat([this.#pending, piece]));
      }
      this.#pending = Buffer.alloc(0);
      start = nl + 1;
    }
    if (start === data.length || this.#skipping) return;
    const rest = data.subarray(start);
    if (this.#pending.length + rest.length > this.#maxLineBytes) {
      this.#pending = Buffer.alloc(0);
      this.#skipping = true;
      this.#overlong();
      return;
    }
    // A copy: `data` may be a large buffer that should not stay alive for a few bytes.
    this.#pending = Buffer.concat([this.#pending, rest]);
  }

  #line(bytes: Buffer): void {
    let text = bytes.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return;
    try {
      this.#onLine(text);
    } catch {
      // A consumer's bug must not stop the tail.
    }
  }

  #overlong(): void {
    this.#tell(
      'line',
      `a line of $GBCMS_REPORTS is longer than ${this.#maxLineBytes} bytes; such lines are ignored`,
    );
  }

  #tell(kind: string, message: string): void {
    if (this.#told.has(kind)) return;
    this.#told.add(kind);
    this.#onProblem(message);
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      const started = Date.now();
      await this.poll();
      if (!this.#running) return;
      const cost = (Date.now() - started) * COST_FACTOR;
      this.#schedule(Math.min(MAX_INTERVAL_MS, Math.max(this.#intervalMs, cost)));
    }, delayMs);
    this.#timer.unref();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
