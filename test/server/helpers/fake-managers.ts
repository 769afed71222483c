// The real ExecutionManager on the fake backend, over a fresh store: what manager, event and
// report tests (and the external-execution server) start from.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeBackend } from '../../../engine/backends/fake.ts';
import type { ExecutionLogger } from '../../../server/executions/logger.ts';
import { ExecutionManager, type ExecutionManagerOptions } from '../../../server/executions/manager.ts';
import { openStore, type Store, type StoreOptions } from '../../../server/store/index.ts';

/** A logger that keeps the messages of warnings and errors and drops the rest. */
export function warningsLogger(): { logger: ExecutionLogger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = {
    info: () => undefined,
    warn: (_: object, message: string) => warnings.push(message),
    error: (_: object, message: string) => warnings.push(message),
  };
  return { logger, warnings };
}

export interface FakeManagers {
  store: Store;
  manager: ExecutionManager;
  /** A second manager on the same store and folder, as after a restart. */
  newManager(more?: Partial<ExecutionManagerOptions>): ExecutionManager;
  /** Drains every manager made here, then closes the store. */
  close(): Promise<void>;
}

export async function openFakeManagers(
  dataDir: string,
  options: Partial<ExecutionManagerOptions> & { logger: ExecutionLogger },
  storeOptions: StoreOptions = {},
): Promise<FakeManagers> {
  const store = await openStore(dataDir, storeOptions);
  const managers: ExecutionManager[] = [];
  const newManager = (more: Partial<ExecutionManagerOptions> = {}) => {
    const manager = new ExecutionManager({ store, backend: new FakeBackend(), dataDir, ...options, ...more });
    managers.push(manager);
    return manager;
  };
  return {
    store,
    manager: newManager(),
    newManager,
    async close() {
      for (const m of managers) await m.drain(0);
      await store.close();
    },
  };
}

/** Makes `dir` a project source: a plain directory (not a git repository) with a pipeline file and `files`. */
export async function writePipeline(
  dir: string,
  pipeline: string,
  files: Record<string, string> = {},
): Promise<string> {
  await writeFile(join(dir, '.gbcms.yml'), pipeline);
  for (const [path, content] of Object.entries(files)) await writeFile(join(dir, path), content);
  return dir;
}
