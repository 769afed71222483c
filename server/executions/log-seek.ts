// Finds a line of a stored step log by its number without reading the file up to it, and
// without an index: records are written in line order, one per line of the file, each starting
// `{"seq":N`, so a bisection over byte offsets (a small read per step) lands near the record
// holding the line. A 50 MB log takes about twenty reads of a few kilobytes, the first time too.
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { type LogLine, parseLogRecord } from '../../engine/logs/log-line.ts';

const NEWLINE = 0x0a;
const SEQ_PREFIX = /^\{"seq":(\d+)/;
/** Once the bisection has narrowed to this many bytes, reading them forward is cheaper. */
const SEEK_WINDOW = 64 * 1024;
const READ_CHUNK = 16 * 1024;
/** Enough bytes of a record to hold `{"seq":` and any line number. */
const SEQ_PREFIX_BYTES = 32;

/** A byte offset at or before the start of the record holding line `seq` (0 for the first). */
export async function seekLine(handle: FileHandle, size: number, seq: number): Promise<number> {
  // `low` is always a record start whose first line is at most `seq` (or the file's start);
  // the record holding `seq` starts before `high`.
  let low = 0;
  let high = size;
  while (high - low > SEEK_WINDOW) {
    const middle = low + Math.floor((high - low) / 2);
    const found = await recordAfter(handle, middle, high);
    if (found === undefined || found.seq > seq) high = middle;
    else low = found.start;
  }
  return low;
}

/**
 * The first record starting at or after `position` and before `limit` that names its line
 * number, with that number. Lines of the file that are not records (torn writes) are passed by.
 */
async function recordAfter(
  handle: FileHandle,
  position: number,
  limit: number,
): Promise<{ start: number; seq: number } | undefined> {
  const buffer = Buffer.alloc(READ_CHUNK);
  // From the byte before: a record starting exactly at `position` follows that byte's newline.
  let at = Math.max(0, position - 1);
  let start: number | undefined = position === 0 ? 0 : undefined;
  while (at < limit) {
    if (start === undefined) {
      const { bytesRead } = await handle.read(buffer, 0, READ_CHUNK, at);
      if (bytesRead === 0) return undefined;
      const newline = buffer.subarray(0, bytesRead).indexOf(NEWLINE);
      if (newline === -1) {
        at += bytesRead;
        continue;
      }
      start = at + newline + 1;
    }
    if (start >= limit) return undefined;
    const { bytesRead } = await handle.read(buffer, 0, SEQ_PREFIX_BYTES, start);
    const seq = SEQ_PREFIX.exec(buffer.toString('latin1', 0, bytesRead));
    if (seq) return { start, seq: Number(seq[1]) };
    // Not a record: look on from it for the next.
    at = start;
    start = undefined;
  }
  return undefined;
}

/** Up to `limit` lines from line `from` on, reading forward from byte `start`. */
export async function linesFrom(
  file: string,
  start: number,
  from: number,
  limit: number,
): Promise<LogLine[]> {
  const input = createReadStream(file, { encoding: 'utf8', start });
  const records = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const lines: LogLine[] = [];
  try {
    for await (const record of records) {
      for (const line of parseLogRecord(record)) {
        if (line.seq >= from) lines.push(line);
        if (lines.length >= limit) return lines;
      }
    }
    return lines;
  } finally {
    records.close();
    input.destroy();
  }
}
