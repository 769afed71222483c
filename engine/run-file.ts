// `gbcms run` keeps each run's record in <run>/run.json, as an observer of the run: written when
// the run starts, on each step's status change (not on log lines), and at the end, so a crash
// leaves an honest record behind that the next `gbcms run` can recover (recovery.ts).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEvent } from './events.ts';
import type { RunRecord } from './run-record.ts';

export const RUN_FILE = 'run.json';

export interface RunFileWriter {
  observe(event: RunEvent): void;
  /** Resolves once every write so far has landed; rejects with the first write that failed. */
  flush(): Promise<void>;
}

export function runFileWriter(runDir: string): RunFileWriter {
  let record: RunRecord | undefined;
  let failure: unknown;
  // One write after another, so an older state never lands last.
  let writing = Promise.resolve();
  const save = () => {
    if (!record) return;
    const text = `${JSON.stringify(record, null, 2)}\n`;
    writing = writing
      .then(() => writeFile(join(runDir, RUN_FILE), text))
      .catch((error: unknown) => {
        failure ??= error;
      });
  };
  return {
    observe(event) {
      if (event.type === 'run') {
        record = structuredClone(event.run);
        save();
      } else if (record && event.type === 'step') {
        const index = record.steps.findIndex((s) => s.name === event.step.name);
        const statusChanged = index === -1 || record.steps[index]?.status !== event.step.status;
        if (index === -1) record.steps.push({ ...event.step });
        else record.steps[index] = { ...event.step };
        if (statusChanged) save();
      } else if (record && event.type === 'artifact') {
        record.artifacts.push(event.artifact);
      }
    },
    async flush() {
      await writing;
      if (failure !== undefined) throw failure;
    },
  };
}
