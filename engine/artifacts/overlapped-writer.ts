// Writes one extracted file's data: batches of chunks in one writev each, one batch in flight
// while the next gathers, so the disk works while the archive is parsed and hashed.
import type { FileHandle } from 'node:fs/promises';

/** Bytes gathered before they go to the disk in one writev. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Writes a file's chunks in batches, one writev in flight while the next batch gathers: the
 * disk works while the archive is parsed and hashed, and a 64 KiB chunk is not a syscall.
 * Holds at most two batches.
 */
export class OverlappedWriter {
  readonly #handle: FileHandle;
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #inFlight: Promise<void> | undefined;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  async push(chunk: Uint8Array): Promise<void> {
    this.#batch.push(chunk);
    this.#batchBytes += chunk.length;
    if (this.#batchBytes < WRITE_BATCH_BYTES) return;
    await this.#inFlight;
    this.#send();
  }

  /** Writes what is gathered and waits until everything is on disk; rejects with a write's error. */
  async flush(): Promise<void> {
    await this.#inFlight;
    this.#send();
    await this.#inFlight;
  }

  /** Waits for a write still in flight, its error ignored: the file can then be closed. */
  async settled(): Promise<void> {
    await this.#inFlight?.catch(() => undefined);
  }

  #send(): void {
    const batch = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    if (batch.length === 0) {
      this.#inFlight = undefined;
      return;
    }
    const writing = writeAll(this.#handle, batch);
    // Seen by the next push or flush; until then it must not count as unhandled.
    writing.catch(() => undefined);
    this.#inFlight = writing;
  }
}

async function writeAll(handle: FileHandle, chunks: Uint8Array[]): Promise<void> {
  let rest = chunks;
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    if (bytesWritten === 0) throw new Error('the disk took no bytes');
    // A short write (rare on a regular file) leaves a tail to write again.
    let i = 0;
    while (i < rest.length && bytesWritten >= (rest[i] as Uint8Array).length) {
      bytesWritten -= (rest[i] as Uint8Array).length;
      i++;
    }
    rest = i < rest.length ? [(rest[i] as Uint8Array).subarray(bytesWritten), ...rest.slice(i + 1)] : [];
  }
}
