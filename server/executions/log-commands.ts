// The `+ command` lines of a stored step log (how the engine echoes a command before running
// it): the page folds the log into a section per command. Listing them reads the whole file,
// but only natively: the bytes are searched for where such a line can start, and just those
// records are parsed, so 50 MB take a fraction of a second rather than a byte loop in script.
// A log still being written only grows, so a list goes on from where it stopped; a file that
// shrank or was replaced is listed again.
import { parseLogRecord } from '../../engine/logs/log-line.ts';
import { withLogFile } from './log-file.ts';

const SCAN_CHUNK = 1024 * 1024;
const NEWLINE = 0x0a;
/** Lists kept at once; the least recently used goes first. */
const MAX_LISTS = 64;
/** A log echoing more commands than this is folded nowhere: the list would outweigh the lines. */
export const MAX_COMMANDS = 10_000;
/**
 * Where a line starting `+ ` can be in a record: first in its text (`"text":"+ `), or after an
 * escaped break. Short patterns: Node searches those with memchr, where a ten-byte one ending in
 * a space (the commonest byte of a log) takes ten times as long.
 */
const COMMAND_MARKS = [Buffer.from(':"+ '), Buffer.from('\\n+ ')];

interface CommandList {
  /** Bytes listed: always the end of a complete record. */
  scanned: number;
  /** Undefined once there were too many to keep. */
  commands: number[] | undefined;
}

const lists = new Map<string, CommandList>();
/** The listing under way per file: one at a time, each going on from where the last stopped. */
const scans = new Map<string, Promise<CommandList | undefined>>();

/**
 * The numbers of the file's `+ command` lines in order, [] when there are too many to fold,
 * undefined when the file does not exist.
 */
export async function listCommands(file: string): Promise<number[] | undefined> {
  const list = await listed(file);
  return list === undefined ? undefined : (list.commands ?? []);
}

/** The list as far as it goes without reading, and how many bytes of the file it covers. */
export function knownCommands(file: string): { commands: number[]; scanned: number } | undefined {
  const list = lists.get(file);
  return list === undefined ? undefined : { commands: list.commands ?? [], scanned: list.scanned };
}

/** Commands among some lines, for an answer given before the file is listed. */
export function commandsAmong(lines: readonly { seq: number; text: string }[]): number[] {
  const found = lines.filter((line) => line.text.startsWith('+ ')).map((line) => line.seq);
  return found.length > MAX_COMMANDS ? [] : found;
}

function listed(file: string): Promise<CommandList | undefined> {
  const previous = scans.get(file) ?? Promise.resolve(undefined);
  const next = previous.catch(() => undefined).then(() => update(file));
  scans.set(file, next);
  const forget = () => {
    if (scans.get(file) === next) scans.delete(file);
  };
  next.then(forget, forget);
  return next;
}

/** A step that has not started has no file yet: undefined. */
function update(file: string): Promise<CommandList | undefined> {
  return withLogFile(file, async (handle, size) => {
    let list = lists.get(file);
    if (list === undefined || size < list.scanned) list = { scanned: 0, commands: [] };
    lists.delete(file);
    lists.set(file, list);
    if (lists.size > MAX_LISTS) lists.delete(lists.keys().next().value as string);
    const buffer = Buffer.alloc(SCAN_CHUNK);
    let carry = Buffer.alloc(0);
    let position = list.scanned;
    while (position < size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(SCAN_CHUNK, size - position), position);
      if (bytesRead === 0) break;
      const chunk =
        carry.length > 0
          ? Buffer.concat([carry, buffer.subarray(0, bytesRead)])
          : buffer.subarray(0, bytesRead);
      const chunkStart = position - carry.length;
      position += bytesRead;
      // Complete records only: the rest waits for the next chunk (or the next update).
      const end = chunk.lastIndexOf(NEWLINE) + 1;
      noteCommands(list, chunk.subarray(0, end));
      list.scanned = chunkStart + end;
      // Copied: the read buffer is reused by the next read.
      carry = Buffer.from(chunk.subarray(end));
    }
    return list;
  });
}

/** Adds the commands of whole records `records` to `list`, in order. */
function noteCommands(list: CommandList, records: Buffer): void {
  let parsedUpTo = 0;
  for (const mark of commandMarks(records)) {
    if (list.commands === undefined) return;
    // Two marks in one record: it was parsed for the first.
    if (mark < parsedUpTo) continue;
    const start = records.lastIndexOf(NEWLINE, mark) + 1;
    const end = records.indexOf(NEWLINE, mark);
    parsedUpTo = end;
    for (const line of parseLogRecord(records.toString('utf8', start, end))) {
      if (line.text.startsWith('+ ')) list.commands.push(line.seq);
    }
    if (list.commands.length > MAX_COMMANDS) list.commands = undefined;
  }
}

function commandMarks(records: Buffer): number[] {
  const found: number[] = [];
  for (const pattern of COMMAND_MARKS) {
    for (let at = records.indexOf(pattern); at !== -1; at = records.indexOf(pattern, at + 1)) found.push(at);
  }
  return found.sort((a, b) => a - b);
}
