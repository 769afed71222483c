// Feeding an archive's bytes into a tar parser, whatever stream they come in: a Node stream
// (Docker's getArchive) or a streamx one (tar-stream's pack). Shared by the extraction and
// by the reading of single files.
import type tarStream from 'tar-stream';

/** The archive's bytes: anything async-iterable over byte chunks will do. */
export type ArchiveSource = NodeJS.ReadableStream | AsyncIterable<unknown>;

export interface FeedState {
  /** The reader gave up; errors from the source after that are its echo. */
  stopped: boolean;
  sourceError: unknown;
}

/** Pumps the source into the parser with backpressure. Never rejects. */
export async function feed(
  source: ArchiveSource,
  extract: tarStream.Extract,
  state: FeedState,
): Promise<void> {
  try {
    for await (const chunk of source) {
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError('the archive stream yielded something other than bytes');
      }
      if (!extract.write(chunk)) await drainedOrClosed(extract);
      if (extract.destroying) return;
    }
    extract.end(null);
  } catch (error) {
    if (state.stopped) return;
    state.sourceError = error;
    extract.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}

export function destroySource(source: ArchiveSource): void {
  if ('destroy' in source && typeof source.destroy === 'function') source.destroy();
}

function drainedOrClosed(extract: tarStream.Extract): Promise<void> {
  return new Promise((resolve) => {
    if (extract.destroying) return resolve();
    const done = () => {
      extract.off('drain', done);
      extract.off('close', done);
      resolve();
    };
    extract.on('drain', done);
    extract.on('close', done);
  });
}
