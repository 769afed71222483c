// A server for route tests: a fresh store in a temporary folder, a fake execution manager,
// users with tokens (an admin, a developer who owns projects, one who is a member, one
// stranger), and a public and a private project.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type AppOptions, buildApp } from '../../../server/app.ts';
import { SecretVault } from '../../../server/secrets/vault.ts';
import { openStore, type Project, type Store } from '../../../server/store/index.ts';
import { FakeExecutions } from './fake-executions.ts';
import { type Callers, createCallers, type Who } from './users.ts';

export type { Who };

export interface TestServer extends Callers {
  app: FastifyInstance;
  store: Store;
  executions: FakeExecutions;
  dir: string;
  publicProject: Project;
  privateProject: Project;
  /** app.inject as `who`. */
  request(who: Who, options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startTestServer(
  options: Partial<Omit<AppOptions, 'store' | 'executions' | 'secrets'>> & {
    /** Secrets can be set, sealed with this key (read on every use, like `gbcms serve` does). */
    secretKey?: Buffer;
  } = {},
): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-app-'));
  const store = await openStore(dir);
  const executions = new FakeExecutions(store);
  const { users, tokens } = await createCallers(store);
  const publicProject = await store.projects.create({
    name: 'public-app',
    repo: 'https://git.example.com/org/public-app.git',
    visibility: 'public',
    owner_id: users.owner.id,
  });
  const privateProject = await store.projects.create({
    name: 'private-app',
    repo: '/srv/git/private-app.git',
    visibility: 'private',
    owner_id: users.owner.id,
  });
  await store.projects.addMember(publicProject.id, users.member.id);
  await store.projects.addMember(privateProject.id, users.member.id);

  const { secretKey, ...appOptions } = options;
  const app = await buildApp({
    store,
    executions,
    rateLimit: { max: 100_000, timeWindowMs: 60_000 },
    ...(secretKey ? { secrets: new SecretVault(store.secrets, async () => secretKey) } : {}),
    ...appOptions,
  });
  return {
    app,
    store,
    executions,
    dir,
    users,
    tokens,
    publicProject,
    privateProject,
    request(who, request) {
      const headers = { ...(request.headers ?? {}) };
      if (who !== 'anonymous') headers.authorization = `Bearer ${tokens[who]}`;
      return app.inject({ ...request, headers });
    },
    async close() {
      await app.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
