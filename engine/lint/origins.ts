// Where each part of an assembled pipeline was written. Includes bring steps, environments
// and templates from other files, and templates bring keys into steps; the schema and the
// rules check the assembled data, and every finding must still point at the line a person
// has to edit, in the file where it is. This finder routes a path of the assembled data
// back to that file and node.
import type { Anchor, FileLocator, PathSegment, Place, PlaceFinder } from './report.ts';

/** The top-level mappings several files may add entries to. */
export const SHARED_SECTIONS = ['templates', 'environments', 'steps'] as const;
export type SharedSection = (typeof SHARED_SECTIONS)[number];

const sectionKey = (section: string, name: string) => `${section}\0${name}`;
const pathKey = (path: readonly PathSegment[]) => path.join('\0');

export class Origins implements PlaceFinder {
  readonly #root: FileLocator;
  readonly #entries = new Map<string, FileLocator>();
  /** A path inside a step whose value a template or the step gave: the path it was written at. */
  readonly #written = new Map<string, readonly PathSegment[]>();

  constructor(root: FileLocator) {
    this.#root = root;
  }

  /** The file `section.name` was first defined in, if not the pipeline file. */
  entryFile(section: SharedSection, name: string): FileLocator | undefined {
    return this.#entries.get(sectionKey(section, name));
  }

  defineEntry(section: SharedSection, name: string, file: FileLocator): void {
    this.#entries.set(sectionKey(section, name), file);
  }

  /** The value at `at` (assembled) was written at `source` (a template's or the step's own). */
  wroteAt(at: readonly PathSegment[], source: readonly PathSegment[]): void {
    this.#written.set(pathKey(at), source);
  }

  place(path: readonly PathSegment[], anchor: Anchor): Place {
    const source = this.#source(path);
    const [section, name] = source;
    const owner = typeof name === 'string' ? this.#entries.get(sectionKey(String(section), name)) : undefined;
    return (owner ?? this.#root).place(source, anchor);
  }

  /** The longest prefix of `path` with a recorded source, rewritten to it. */
  #source(path: readonly PathSegment[]): readonly PathSegment[] {
    for (let length = path.length; length >= 3; length--) {
      const source = this.#written.get(pathKey(path.slice(0, length)));
      if (source) return [...source, ...path.slice(length)];
    }
    return path;
  }
}
