// Lines FROM..FROM+LIMIT of a stored step log without reading the whole file, the first time
// too: the last lines (a page opening on a log) are read backwards from the end, any other range
// is found by bisecting the file (log-seek.ts). Line numbers are the lines' seq (1-based). The
// `+ command` lines (log-commands.ts) come with each range: a range other than the tail waits for
// them to be listed, the tail of a log not listed yet gives those among its lines and starts
// the listing, so the page's first screen never waits for a read of the whole file.
import { type LogLine, parseLogRecord } from '../../engine/logs/log-line.ts';
import { commandsAmong, knownCommands, listCommands } from './log-commands.ts';
import { type LogFileHandle, withLogFile } from './log-file.ts';
import { linesFrom, seekLine } from './log-seek.ts';

const TAIL_CHUNK = 256 * 1024;
const NEWLINE = 0x0a;

export interface LogRange {
  /** The last line's number: the log's length. */
  total: number;
  lines: LogLine[];
  /** Seqs of the `+ command` lines so far, in order; empty when there are too many. */
  commands: number[];
  /** True when `commands` are only those among `lines`: the log has not been listed yet. */
  commandsPartial?: true;
}

const NO_LINES: LogRange = { total: 0, lines: [], commands: [] };

/** `limit` lines from line `from`, or the last `limit` lines when `from` is undefined. */
export async function readLogRange(file: string, from: number | undefined, limit: number): Promise<LogRange> {
  if (from === undefined) return readTailRange(file, limit);
  const [commands, range] = await Promise.all([listCommands(file), readFrom(file, from, limit)]);
  if (commands === undefined || range === undefined) return NO_LINES;
  return { ...range, commands };
}

async function readTailRange(file: string, limit: number): Promise<LogRange> {
  const tail = await withLogFile(file, (handle, size) => readTail(handle, size, limit));
  if (tail === undefined) return NO_LINES;
  const known = knownCommands(file);
  if (known !== undefined && known.scanned >= tail.end) return { ...tail.range, commands: known.commands };
  // Read to its start, the tail is the whole log: its commands are all among its lines.
  if (tail.whole) return { ...tail.range, commands: commandsAmong(tail.range.lines) };
  // Listed behind this answer, for the ranges that follow.
  listCommands(file).catch(() => undefined);
  return { ...tail.range, commands: commandsAmong(tail.range.lines), commandsPartial: true };
}

async function readFrom(
  file: string,
  from: number,
  limit: number,
): Promise<Omit<LogRange, 'commands'> | undefined> {
  return withLogFile(file, async (handle, size) => {
    const [start, last] = await Promise.all([seekLine(handle, size, from), readTail(handle, size, 1)]);
    const lines = await linesFrom(file, start, from, limit);
    // The file may have grown between the two reads.
    return { total: Math.max(last.range.total, lines.at(-1)?.seq ?? 0), lines };
  });
}

interface Tail {
  range: Omit<LogRange, 'commands'>;
  /** The byte after the last complete record read. */
  end: number;
  /** Read to the file's start: these are all its lines. */
  whole: boolean;
}

/**
 * The last `limit` lines, read backwards from the end; a record still being written is left out.
 * Records are cut apart as bytes, so a character split between two reads stays whole.
 */
async function readTail(handle: LogFileHandle, size: number, limit: number): Promise<Tail> {
  const found: LogLine[][] = [];
  let count = 0;
  let end = size;
  /** The start of a record whose beginning is further back, with its newline. */
  let rest = Buffer.alloc(0);
  let completeEnd: number | undefined;
  while (end > 0 && count < limit) {
    const start = Math.max(0, end - TAIL_CHUNK);
    const chunk = Buffer.alloc(end - start);
    await handle.read(chunk, 0, chunk.length, start);
    end = start;
    const bytes = rest.length > 0 ? Buffer.concat([chunk, rest]) : chunk;
    let upTo = bytes.length;
    if (completeEnd === undefined) {
      upTo = bytes.lastIndexOf(NEWLINE) + 1;
      // No record ends here yet: all of it belongs to the one still being written.
      if (upTo === 0 && start > 0) continue;
      completeEnd = start + upTo;
    }
    const firstBreak = bytes.indexOf(NEWLINE);
    if (start > 0 && (firstBreak === -1 || firstBreak + 1 >= upTo)) {
      // One record longer than a read: it is whole once its start is read.
      rest = bytes.subarray(0, upTo);
      continue;
    }
    const cut = start > 0 ? firstBreak + 1 : 0;
    rest = bytes.subarray(0, cut);
    const records = bytes.toString('utf8', cut, upTo).split('\n');
    for (let i = records.length - 1; i >= 0 && count < limit; i--) {
      const lines = parseLogRecord(records[i] ?? '');
      found.push(lines);
      count += lines.length;
    }
  }
  const all = found.reverse().flat();
  return {
    range: { total: all.at(-1)?.seq ?? 0, lines: all.slice(-limit) },
    end: completeEnd ?? 0,
    whole: end === 0 && rest.length === 0 && count <= limit,
  };
}
