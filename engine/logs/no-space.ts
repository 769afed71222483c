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

export class NoSpaceWatch {
  /** The unfinished last line of each stream. */
  readonly #partial = { stdout: '', stderr: '' };
  readonly #paths = new Set<string>();
  #seen = false;

  feed(chunk: OutputChunk): void {
    const lines = (this.#partial[chunk.stream] + chunk.data.toString('utf8')).split('\n');
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
