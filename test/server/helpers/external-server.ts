// A real gbcms server for tests that need the real ExecutionManager behind the routes (external
// executions, event streams): a fresh store, the manager on the fake backend, the app listening
// on 127.0.0.1 (a free port), users with tokens (an admin, a developer who owns the projects, a
// member, a stranger) and a public and a private project.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { type AppOptions, buildApp } from '../../../server/app.ts';
import type { ExecutionManager, ExecutionManagerOptions } from '../../../server/executions/manager.ts';
import type { Project, Store, StoreOptions } from '../../../server/store/index.ts';
import { HANG_MS } from '../../helpers/poll.ts';
import { openFakeManagers, warningsLogger } from './fake-managers.ts';
import { type Callers, createCallers, type Who } from './users.ts';

export type { Who };

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ExternalServer extends Callers {
  /** `http://127.0.0.1:PORT` */
  url: string;
  app: FastifyInstance;
  store: Store;
  manager: ExecutionManager;
  dataDir: string;
  publicProject: Project;
  privateProject: Project;
  warnings: string[];
  /** The app's log, one JSON line each (access log included). */
  logLines: string[];
  /** A request as `who`, over real HTTP; the body is JSON when given. */
  api<T = Record<string, unknown>>(
    who: Who,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<ApiAnswer<T>>;
  /** A second manager on the same store and folder, as after a restart. */
  newManager(options?: Partial<ExecutionManagerOptions>): ExecutionManager;
  close(): Promise<void>;
}

export async function startExternalServer(
  options: Partial<ExecutionManagerOptions> = {},
  appOptions: Pick<AppOptions, 'sseKeepAliveMs' | 'rateLimit'> = {},
  /** The store's clock, for tests of what expires. */
  storeOptions: StoreOptions = {},
): Promise<ExternalServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gbcms-external-'));
  const { logger, warnings } = warningsLogger();
  const managers = await openFakeManagers(dataDir, { logger, ...options }, storeOptions);
  const { store, manager, newManager } = managers;
  const { users, tokens } = await createCallers(store);
  const publicProject = await store.projects.create({
    name: 'public-notebooks',
    repo: 'https://git.example.com/org/notebooks.git',
    visibility: 'public',
    owner_id: users.owner.id,
  });
  const privateProject = await store.projects.create({
    name: 'private-notebooks',
    repo: '/srv/git/private.git',
    visibility: 'private',
    owner_id: users.owner.id,
  });
  await store.projects.addMember(privateProject.id, users.member.id);

  const logLines: string[] = [];
  const app = await buildApp({
    store,
    executions: manager,
    executionEvents: manager.events,
    rateLimit: { max: 100_000, timeWindowMs: 60_000 },
    logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(line) }),
    ...appOptions,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no TCP address');
  const url = `http://127.0.0.1:${address.port}`;

  return {
    url,
    app,
    store,
    manager,
    dataDir,
    users,
    tokens,
    publicProject,
    privateProject,
    warnings,
    logLines,
    async api<T>(who: Who, method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
      const headers: Record<string, string> = {};
      if (who !== 'anonymous') headers.authorization = `Bearer ${tokens[who]}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON (CSV, text): the text as it came.
      }
      return { status: response.status, body: parsed as T, headers: response.headers };
    },
    newManager,
    async close() {
      await app.close();
      await managers.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it holds, or fails after `timeoutMs` (by default, when only a hang takes that long). */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = HANG_MS): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
