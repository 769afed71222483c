// The events of one execution the server has not acknowledged yet, in order, numbered from 0.
// The oldest sit in memory (a window of WINDOW_BYTES, what the next batches are cut from); once
// the window is full, newer ones go to a file on disk, one JSON line each, and come back into
// the window as it empties. So a runner cut off from its server keeps a long outage's output
// without holding it in memory, and the whole is bounded: past `limitBytes` (memory and file
// together) push() refuses, and the caller stops the run rather than lose events silently.
// File I/O is synchronous on purpose: push() is called from the engine's observer, which is
// synchronous, and order is the one thing this buffer must never get wrong.
import { closeSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { RunEvent } from '../../../engine/events.ts';

/** Default bound on what one execution keeps undelivered, memory and disk together. */
export const DEFAULT_BUFFER_BYTES = 256 * 1024 * 1024;
/** How much of the oldest undelivered output stays in memory. */
export const WINDOW_BYTES = 4 * 1024 * 1024;
/** Lines headed for the file are written in chunks of about this much. */
const WRITE_CHUNK_BYTES = 64 * 1024;
const READ_CHUNK_BYTES = 256 * 1024;

interface Held {
  event: RunEvent;
  bytes: number;
}

export interface SpillBufferOptions {
  /** Where the events beyond the window go; created when first needed, removed by close(). */
  file: string;
  limitBytes?: number;
  windowBytes?: number;
}

export class SpillBuffer {
  readonly #path: string;
  readonly #limit: number;
  readonly #windowLimit: number;
  /** The oldest held events; the first is number #first. */
  #window: Held[] = [];
  #windowBytes = 0;
  #first = 0;
  #count = 0;
  #fd: number | undefined;
  /** Bytes written to the file so far, and where the next unread line starts. */
  #fileSize = 0;
  #readAt = 0;
  /** Lines on their way to the file, not written yet. */
  #unwritten: string[] = [];
  #unwrittenBytes = 0;
  /** Writing the file failed once: nothing more is taken. */
  #failed = false;

  constructor(options: SpillBufferOptions) {
    this.#path = options.file;
    this.#limit = options.limitBytes ?? DEFAULT_BUFFER_BYTES;
    this.#windowLimit = options.windowBytes ?? WINDOW_BYTES;
  }

  /** Number of the oldest held event: how many were acknowledged. */
  get first(): number {
    return this.#first;
  }

  /** How many events are held. */
  get length(): number {
    return this.#count;
  }

  /** What the held events take, in memory and on disk (the file counts whole until drained). */
  get bytes(): number {
    return this.#windowBytes + this.#fileSize + this.#unwrittenBytes;
  }

  /**
   * Holds the event after all others; false (and not held) when that would pass the bound or the
   * file cannot be written. Never throws; peek() and acknowledge() throw when the file fails.
   */
  push(event: RunEvent): boolean {
    if (this.#failed) return false;
    const line = JSON.stringify(event);
    const bytes = Buffer.byteLength(line) + 1;
    if (this.bytes + bytes > this.#limit) return false;
    const spilling = this.#fileSize > this.#readAt || this.#unwritten.length > 0;
    if (!spilling && (this.#window.length === 0 || this.#windowBytes + bytes <= this.#windowLimit)) {
      this.#window.push({ event, bytes });
      this.#windowBytes += bytes;
      this.#count++;
      return true;
    }
    if (this.#unwrittenBytes + bytes > WRITE_CHUNK_BYTES) {
      try {
        this.#flush();
      } catch {
        // A full or failing disk holds no more than the bound would: refuse from now on.
        this.#failed = true;
        return false;
      }
    }
    this.#unwritten.push(line);
    this.#unwrittenBytes += bytes;
    this.#count++;
    return true;
  }

  /** The oldest held events, up to `maxEvents` and about `maxBytes` (always at least one). */
  peek(maxEvents: number, maxBytes: number): RunEvent[] {
    this.#refill();
    const batch: RunEvent[] = [];
    let bytes = 0;
    for (const held of this.#window) {
      if (batch.length > 0 && (batch.length >= maxEvents || bytes + held.bytes > maxBytes)) break;
      batch.push(held.event);
      bytes += held.bytes;
    }
    return batch;
  }

  /** The server holds every event before number `received`: drops those still held. */
  acknowledge(received: number): void {
    while (this.#first < received && this.#count > 0) {
      if (this.#window.length === 0) this.#refill();
      // One splice per window, not a shift per event: the window may hold tens of thousands.
      const drop = Math.min(received - this.#first, this.#window.length);
      if (drop === 0) break;
      for (const held of this.#window.splice(0, drop)) this.#windowBytes -= held.bytes;
      this.#first += drop;
      this.#count -= drop;
    }
    this.#refill();
  }

  /** Drops everything and removes the file. */
  close(): void {
    this.#window = [];
    this.#unwritten = [];
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    rmSync(this.#path, { force: true });
  }

  #flush(): void {
    if (this.#unwritten.length === 0) return;
    // The run's output, secrets masked but still nobody else's business: owner only.
    this.#fd ??= openSync(this.#path, 'w+', 0o600);
    const chunk = Buffer.from(`${this.#unwritten.join('\n')}\n`);
    let written = 0;
    while (written < chunk.length) {
      written += writeSync(this.#fd, chunk, written, chunk.length - written, this.#fileSize + written);
    }
    this.#fileSize += chunk.length;
    this.#unwritten = [];
    this.#unwrittenBytes = 0;
  }

  /** Moves lines from the file into the window while it has room; an emptied file starts over. */
  #refill(): void {
    if (this.#window.length > 0 && this.#windowBytes >= this.#windowLimit) return;
    this.#flush();
    const fd = this.#fd;
    if (fd === undefined) return;
    while (this.#readAt < this.#fileSize) {
      const left = this.#fileSize - this.#readAt;
      let want = Math.min(READ_CHUNK_BYTES, left);
      let chunk = readAt(fd, this.#readAt, want);
      // A line longer than the chunk: read more until it ends (every line ends with \n).
      while (chunk.indexOf(10) === -1) {
        if (want >= left) throw new Error(`${this.#path} ends in the middle of a line`);
        want = Math.min(want * 2, left);
        chunk = readAt(fd, this.#readAt, want);
      }
      let start = 0;
      for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
        const bytes = end - start + 1;
        if (this.#window.length > 0 && this.#windowBytes + bytes > this.#windowLimit) break;
        const event = JSON.parse(chunk.toString('utf8', start, end)) as RunEvent;
        this.#window.push({ event, bytes });
        this.#windowBytes += bytes;
        start = end + 1;
      }
      this.#readAt += start;
      if (start === 0 || this.#windowBytes >= this.#windowLimit) break;
    }
    if (this.#readAt === this.#fileSize) {
      ftruncateSync(fd, 0);
      this.#fileSize = 0;
      this.#readAt = 0;
    }
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const n = readSync(fd, buffer, read, length - read, position + read);
    if (n === 0) break;
    read += n;
  }
  return buffer.subarray(0, read);
}
