// Lines FROM..FROM+LIMIT of a stored step log without reading the whole file: a 500,000-line
// log (50 MB) is scanned once for its record boundaries, and a checkpoint (byte offset, first
// seq) is kept every CHECKPOINT_EVERY records; a range is then read from the nearest checkpoint.
// A log still being written only grows, so the scan goes on from where it stopped; a file that
// shrank or was replaced is scanned again. Line numbers are the lines' seq (1-based). The scan
// also notes the `+ command` lines (how the engine echoes a command before running it): the
// page folds the log into a section per command.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { type LogLine, parseLogRecord } from '../../engine/logs/log-line.ts';

const CHECKPOINT_EVERY = 256;
const SCAN_CHUNK = 1024 * 1024;
/** Indexes kept at once; the least recently used goes first. */
const MAX_INDEXES = 64;
const NEWLINE = 0x0a;
const SEQ_PREFIX = /^\{"seq":(\d+)/;
/** A log echoing more commands than this is folded nowhere: the list would outweigh the lines. */
const MAX_COMMANDS = 10_000;
/** Where a line starting `+ ` can be in a record: first in its text, or after an escaped break. */
const COMMAND_MARKS = [Buffer.from('"text":"+ '), Buffer.from('\\n+ ')];

interface LogIndex {
  /** Bytes scanned: always the end of a complete record. */
  scanned: number;
  offsets: number[];
  seqs: number[];
  records: number;
  lastSeq: number;
  /** Seqs of `+ command` lines; undefined once there were too many to keep. */
  commands: number[] | undefined;
}

export interface LogRange {
  /** The last line's number: the log's length. */
  total: number;
  lines: LogLine[];
  /** Seqs of the `+ command` lines so far, in order; empty when there are too many. */
  commands: number[];
}

const indexes = new Map<string, LogIndex>();
/** The scan under way per file: one at a time, each going on from where the last stopped. */
const scans = new Map<string, Promise<LogIndex | undefined>>();
const TAIL_CHUNK = 256 * 1024;

/** `limit` lines from line `from`, or the last `limit` lines when `from` is undefined. */
export async function readLogRange(file: string, from: number | undefined, limit: number): Promise<LogRange> {
  if (from === undefined) {
    // The last lines (a page opening on the log) are read from the end of the file, never
    // waiting for a scan: the index is built behind them for the ranges that follow.
    const tail = await readTail(file, limit);
    const index = indexes.get(file);
    if (index === undefined) indexOf(file).catch(() => undefined);
    const known = index !== undefined && !scans.has(file) ? (index.commands ?? []) : [];
    return tail.commands.length > 0 || tail.total === 0 ? tail : { ...tail, commands: known };
  }
  const index = await indexOf(file);
  if (index === undefined) return { total: 0, lines: [], commands: [] };
  const first = from ?? Math.max(1, index.lastSeq - limit + 1);
  const lines = await linesFrom(file, index, first, limit);
  return { total: Math.max(index.lastSeq, lines.at(-1)?.seq ?? 0), lines, commands: index.commands ?? [] };
}

function indexOf(file: string): Promise<LogIndex | undefined> {
  const previous = scans.get(file) ?? Promise.resolve(undefined);
  const next = previous.catch(() => undefined).then(() => updateIndex(file));
  scans.set(file, next);
  const forget = () => {
    if (scans.get(file) === next) scans.delete(file);
  };
  next.then(forget, forget);
  return next;
}

async function updateIndex(file: string): Promise<LogIndex | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    // A step that has not started has no file yet.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    let index = indexes.get(file);
    if (index === undefined || size < index.scanned) {
      index = { scanned: 0, offsets: [], seqs: [], records: 0, lastSeq: 0, commands: [] };
    }
    indexes.delete(file);
    indexes.set(file, index);
    if (indexes.size > MAX_INDEXES) indexes.delete(indexes.keys().next().value as string);
    if (size > index.scanned) await scan(handle, index, size);
    return index;
  } finally {
    await handle.close();
  }
}

/** The last `limit` lines, read backwards from the end; a record still being written is left out. */
async function readTail(file: string, limit: number): Promise<LogRange> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { total: 0, lines: [], commands: [] };
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const found: LogLine[][] = [];
    let count = 0;
    let end = size;
    let rest = Buffer.alloc(0);
    let complete = false;
    while (end > 0 && count < limit) {
      const start = Math.max(0, end - TAIL_CHUNK);
      const chunk = Buffer.alloc(end - start);
      await handle.read(chunk, 0, chunk.length, start);
      const text = Buffer.concat([chunk, rest]);
      const records = text.toString('utf8').split('\n');
      // The first piece may be the end of a record that starts further back.
      rest = start > 0 ? Buffer.from(records.shift() ?? '', 'utf8') : Buffer.alloc(0);
      if (!complete) {
        records.pop();
        complete = true;
      }
      for (let i = records.length - 1; i >= 0 && count < limit; i--) {
        const lines = parseLogRecord(records[i] ?? '');
        found.push(lines);
        count += lines.length;
      }
      end = start;
    }
    const all = found.reverse().flat();
    // Read to its start, the tail is the whole log: its commands are known already.
    const commands =
      end === 0 ? all.filter((line) => line.text.startsWith('+ ')).map((line) => line.seq) : [];
    return { total: all.at(-1)?.seq ?? 0, lines: all.slice(-limit), commands };
  } finally {
    await handle.close();
  }
}

async function scan(handle: Awaited<ReturnType<typeof open>>, index: LogIndex, size: number): Promise<void> {
  const buffer = Buffer.alloc(SCAN_CHUNK);
  let carry = Buffer.alloc(0);
  let position = index.scanned;
  let lastRecord: Buffer | undefined;
  while (position < size) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(SCAN_CHUNK, size - position), position);
    if (bytesRead === 0) break;
    const chunk =
      carry.length > 0
        ? Buffer.concat([carry, buffer.subarray(0, bytesRead)])
        : buffer.subarray(0, bytesRead);
    const chunkStart = position - carry.length;
    position += bytesRead;
    let start = 0;
    let lastStart = -1;
    let lastEnd = -1;
    const marks = commandMarks(chunk);
    let mark = 0;
    // A byte loop: Buffer#indexOf costs a native call per record, twice the time on 500,000.
    for (let end = 0; end < chunk.length; end++) {
      if (chunk[end] !== NEWLINE) continue;
      if (end > start) {
        while (mark < marks.length && (marks[mark] ?? 0) < start) mark += 1;
        if (mark < marks.length && (marks[mark] ?? 0) < end)
          noteCommands(index, chunk.toString('utf8', start, end));
        if (index.records % CHECKPOINT_EVERY === 0) {
          const seq = SEQ_PREFIX.exec(chunk.toString('latin1', start, Math.min(end, start + 32)));
          if (seq) {
            index.offsets.push(chunkStart + start);
            index.seqs.push(Number(seq[1]));
          }
        }
        index.records += 1;
        lastStart = start;
        lastEnd = end;
      }
      start = end + 1;
    }
    // Copied: the read buffer is reused by the next read.
    if (lastStart >= 0) lastRecord = Buffer.from(chunk.subarray(lastStart, lastEnd));
    index.scanned = chunkStart + start;
    carry = Buffer.from(chunk.subarray(start));
  }
  const last = lastRecord ? parseLogRecord(lastRecord.toString('utf8')).at(-1) : undefined;
  if (last) index.lastSeq = last.seq;
}

function commandMarks(chunk: Buffer): number[] {
  const found: number[] = [];
  for (const pattern of COMMAND_MARKS) {
    for (let at = chunk.indexOf(pattern); at !== -1; at = chunk.indexOf(pattern, at + 1)) found.push(at);
  }
  return found.sort((a, b) => a - b);
}

function noteCommands(index: LogIndex, record: string): void {
  if (index.commands === undefined) return;
  for (const line of parseLogRecord(record)) {
    if (line.text.startsWith('+ ')) index.commands.push(line.seq);
  }
  if (index.commands.length > MAX_COMMANDS) index.commands = undefined;
}

async function linesFrom(file: string, index: LogIndex, from: number, limit: number): Promise<LogLine[]> {
  // The last checkpoint at or before `from`.
  let low = 0;
  let high = index.seqs.length - 1;
  let start = 0;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if ((index.seqs[middle] ?? 0) <= from) {
      start = index.offsets[middle] ?? 0;
      low = middle + 1;
    } else high = middle - 1;
  }
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
