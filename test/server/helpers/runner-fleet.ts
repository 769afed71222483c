// A server and its runners as real processes, for the runner tests: a data folder with an
// admin and registered runners, `gbcms serve`, `gbcms runner` children, and the few API calls
// the tests make. Every process started here is killed after the file's tests.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../../server/store/index.ts';
import { pollUntil } from '../../helpers/poll.ts';
import type { Cleanups } from './cleanups.ts';
import { type RunnerProcess, runnerProcess } from './runner-process.ts';
import { type Served, serveProcess } from './serve-process.ts';

export interface ExecutionView {
  id: string;
  status: string;
  reason: string | null;
  runner: string | null;
  ended_at: string | null;
  steps: { name: string; status: string; reason: string | null }[];
}

export interface Fleet {
  dir: string;
  server: Served;
  adminToken: string;
  developerToken: string;
  runnerTokens: Record<string, string>;
  api(path: string, init?: { method?: string; body?: unknown; token?: string }): Promise<Response>;
  project(name: string, pipeline: string): Promise<string>;
  start(projectId: string): Promise<string>;
  execution(id: string): Promise<ExecutionView>;
  ended(id: string): Promise<ExecutionView>;
  logs(id: string): Promise<string>;
  runner(
    name: string,
    options?: { labels?: string[]; capacity?: number; data?: string; server?: string; args?: string[] },
  ): RunnerProcess;
}

export async function startFleet(
  cleanups: Cleanups,
  options: { backend: 'docker' | 'local'; runners: Record<string, string[]>; serveArgs?: string[] },
): Promise<Fleet> {
  const dir = await cleanups.tempDir('gbcms-runners-');
  const data = join(dir, 'server');
  const store = await openStore(data);
  const admin = await store.users.create({ username: 'admin', role: 'admin' });
  const developer = await store.users.create({ username: 'dev', role: 'developer' });
  const adminToken = (await store.tokens.create(admin.id, 'test')).token;
  const developerToken = (await store.tokens.create(developer.id, 'test')).token;
  const runnerTokens: Record<string, string> = {};
  for (const [name, labels] of Object.entries(options.runners)) {
    runnerTokens[name] = (await store.runners.create({ name, labels })).token;
  }
  await store.close();
  // The tests poll many executions at once from one address.
  const serveArgs = ['--rate-limit', '100000', ...(options.serveArgs ?? [])];
  const server = await serveProcess(data, options.backend, process.env, serveArgs);
  const children: RunnerProcess[] = [];
  cleanups.onCleanup(async () => {
    for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGKILL');
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  const api: Fleet['api'] = (path, init = {}) =>
    fetch(`${server.url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        authorization: `Bearer ${init.token ?? adminToken}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const json = async <T>(response: Response, expected: number): Promise<T> => {
    const text = await response.text();
    if (response.status !== expected) throw new Error(`${response.status} instead of ${expected}: ${text}`);
    return JSON.parse(text) as T;
  };
  const execution = async (id: string) => json<ExecutionView>(await api(`/api/executions/${id}`), 200);

  return {
    dir,
    server,
    adminToken,
    developerToken,
    runnerTokens,
    api,
    async project(name, pipeline) {
      const repo = join(dir, 'repos', name);
      await mkdir(repo, { recursive: true });
      await writeFile(join(repo, '.gbcms.yml'), pipeline);
      await writeFile(join(repo, 'greeting.txt'), `hello from ${name}'s source\n`);
      const body = { name, repo, visibility: 'public' };
      return (await json<{ id: string }>(await api('/api/projects', { body }), 201)).id;
    },
    async start(projectId) {
      return (
        await json<{ id: string }>(await api('/api/executions', { body: { project_id: projectId } }), 201)
      ).id;
    },
    execution,
    ended: (id) =>
      pollUntil(`execution ${id} to end`, async () => {
        const view = await execution(id);
        return view.ended_at !== null && view;
      }),
    async logs(id) {
      const response = await api(`/api/executions/${id}/logs`);
      if (response.status !== 200) throw new Error(`logs of ${id}: ${response.status}`);
      return response.text();
    },
    runner(name, runnerOptions = {}) {
      const token = runnerTokens[name];
      if (token === undefined) throw new Error(`no runner ${name} registered`);
      const child = runnerProcess({
        server: runnerOptions.server ?? server.url,
        token,
        data: runnerOptions.data ?? join(dir, 'runner-data', name),
        name,
        backend: options.backend,
        capacity: runnerOptions.capacity,
        labels: runnerOptions.labels,
        args: runnerOptions.args,
      });
      children.push(child);
      return child;
    },
  };
}
