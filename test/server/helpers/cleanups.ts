// What a test file leaves behind (temporary folders, open stores), undone in reverse order
// once all its tests have run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export interface Cleanups {
  /** A new temporary folder, removed after the file's tests. */
  tempDir(prefix: string): Promise<string>;
  onCleanup(step: () => Promise<void>): void;
}

/** Call once at the top of a test file: registers the `after` that runs the clean-ups. */
export function cleanUpAfterAll(): Cleanups {
  const steps: (() => Promise<void>)[] = [];
  after(async () => {
    for (const step of steps.reverse()) await step();
  });
  return {
    async tempDir(prefix) {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      steps.push(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
    onCleanup(step) {
      steps.push(step);
    },
  };
}
