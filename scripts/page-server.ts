// A real gbcms server for scripts and benchmarks: a fresh store in a temporary folder, the real
// execution manager (on the fake backend unless told otherwise: steps print what their env
// says, no Docker needed), an admin with a token; and Chromium as the page tests drive it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { FakeBackend } from '../engine/backends/fake.ts';
import type { Backend } from '../engine/backends/types.ts';
import { buildApp } from '../server/app.ts';
import { ExecutionManager } from '../server/executions/manager.ts';
import { openStore, type Store } from '../server/store/index.ts';
import { commitAll, gitAs } from '../test/helpers/git.ts';
import { CHROMIUM } from '../test/server/helpers/browser.ts';

const quiet = { info() {}, warn() {}, error() {} };

export interface PageServer {
  url: string;
  token: string;
  dir: string;
  store: Store;
  manager: ExecutionManager;
  close(): Promise<void>;
}

export async function startPageServer(backend: Backend = new FakeBackend()): Promise<PageServer> {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-page-'));
  const dataDir = join(dir, 'data');
  const store = await openStore(dataDir);
  const manager = new ExecutionManager({ store, backend, dataDir, logger: quiet });
  const app = await buildApp({
    store,
    executions: manager,
    logger: { level: 'silent' },
    rateLimit: { max: 1e9, timeWindowMs: 60_000 },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const admin = await store.users.create({ username: 'admin', role: 'admin' });
  const { token } = await store.tokens.create(admin.id, 'pages');
  return {
    url,
    token,
    dir,
    store,
    manager,
    async close() {
      await manager.drain(1000);
      await app.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A bare repository whose `main` holds `.gbcms.yml`, committed as `message`. */
export async function repoWithPipeline(dir: string, pipeline: string, message: string): Promise<string> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const bare = join(dir, 'app.git');
  const work = join(dir, 'work');
  const git = gitAs({ name: 'Ada Lovelace', email: 'ada@example.com' });
  await mkdir(work, { recursive: true });
  git(dir, 'init', '-q', '--bare', bare);
  git(work, 'init', '-q');
  await writeFile(join(work, '.gbcms.yml'), pipeline);
  commitAll(git, work, message);
  git(work, 'push', '-q', bare, 'main');
  return bare;
}

/** Headless Chromium with the flags the page tests use. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
