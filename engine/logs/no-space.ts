// Telling "no space left on /tmp" from other failures. A full tmpfs makes a write fail with
// ENOSPC, and the tmpfs is gone with the container by the time the engine could look at it,
// so the only witness is what the step printed: the C library's "No space left on device",
// Go's lower-case form, Node's "ENOSPC". When such a line names a path inside one of the step's
// scratch folders (/tmp, HOME), that folder is the one that was full.
import type { OutputChunk } from '../backends/types.ts';

const NO_SPACE = /no space left on device|ENOSPC/i;
/** Absolute paths, as programs quote them in messages: 'x', "x", `x', or bare. */
const PATH = /(?:^|[\s'"`(=:])(\/[^\s'"`):,]*)/g;
/** A line longer than this is cut before it is searched: messages are short, floods are not. */
const MAX_LINE = 4096;

const NEWLINE = 0x0a;
/** Both spellings of the message contain one of these, byte for byte. */
const NEEDLES = ['space left on device', 'ENOSPC'].map((text) => Buffer.from(text));
const LONGEST_NEEDLE = Math.max(...NEEDLES.map((needle) => needle.length));

/** Whether `data`, or the end of the last line joined to it, may hold a no-space message. */
function mentionsNoSpace(partial: string, data: Buffer): boolean {
  if (NEEDLES.some((needle) => data.includes(needle))) return true;
  if (partial === '') return false;
  // A message cut between two chunks.
  const seam = Buffer.concat([Buffer.from(partial.slice(-LONGEST_NEEDLE)), data.subarray(0, LONGEST_NEEDLE)]);
  return NEEDLES.some((needle) => seam.includes(needle));
}

export class NoSpaceWatch {
  /** The unfinished last line of each stream. */
  readonly #partial = { stdout: '', stderr: '' };
  readonly #paths = new Set<string>();
  #seen = false;

  feed(chunk: OutputChunk): void {
    const partial = this.#partial[chunk.stream];
    if (!mentionsNoSpace(partial, chunk.data)) {
      // The usual case, and on the hot path of every log byte: no line is split or searched,
      // only the unfinished last line is kept in case the message is completed by the next chunk.
      const end = chunk.data.lastIndexOf(NEWLINE);
      const tail = chunk.data.subarray(Math.max(end + 1, chunk.data.length - MAX_LINE)).toString('utf8');
      this.#partial[chunk.stream] = end === -1 ? (partial + tail).slice(-MAX_LINE) : tail;
      return;
    }
    const lines = (partial + chunk.data.toString('utf8')).split('\n');
    this.#partial[chunk.stream] = (lines.pop() ?? '').slice(-MAX_LINE);
    for (const line of lines) this.#line(line);
  }

  /**
   * The scratch folder a no-space message named, '' when the output reported no space without
   * naming one of them, undefined when it never reported no space.
   */
  fullFolder(scratch: readonly string[]): string | undefined {
    for (const partial of Object.values(this.#partial)) this.#line(partial);
    this.#partial.stdout = '';
    this.#partial.stderr = '';
    if (!this.#seen) return undefined;
    for (const path of this.#paths) {
      const folder = scratch.find((root) => path === root || path.startsWith(`${root}/`));
      if (folder !== undefined) return folder;
    }
    return '';
  }

  #line(text: string): void {
    const line = text.slice(0, MAX_LINE);
    if (!NO_SPACE.test(line)) return;
    this.#seen = true;
    for (const match of line.matchAll(PATH)) if (match[1]) this.#paths.add(match[1]);
  }
}
