// Two `gbcms serve` processes (A and B) cooperating as one service, for the scale-out tests:
// one PostgreSQL database, one Redis queue and ONE data folder shared by both, each server on a
// port chosen up front so that it can be told its own address (--server-name, --advertise-url),
// and `gbcms runner` processes pointed at one server or at a list of them (--server A,B).
// Every process started here is killed after the file's tests.
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { LABEL_RUN, labelFilter } from '../../../engine/backends/docker/labels.ts';
import { openStore } from '../../../server/store/index.ts';
import { docker } from '../../helpers/docker.ts';
import { pollUntil } from '../../helpers/poll.ts';
import { postgresCluster } from '../../helpers/postgres.ts';
import type { Cleanups } from './cleanups.ts';
import type { ExecutionView } from './runner-fleet.ts';
import { type RunnerProcess, runnerProcess } from './runner-process.ts';
import { type Served, serveProcess } from './serve-process.ts';

export type ServerName = 'A' | 'B';

export interface ClusterServer {
  name: ServerName;
  port: number;
  /** http://127.0.0.1:PORT, its --advertise-url. */
  url: string;
  served: Served;
}

export interface Cluster {
  dir: string;
  data: string;
  database: string;
  servers: Record<ServerName, ClusterServer>;
  adminToken: string;
  runnerTokens: Record<string, string>;
  /** A server's URL as seen from `host` (127.0.0.1 by default, a namespace's hostAddress). */
  url(server: ServerName, host?: string): string;
  api(
    server: ServerName,
    path: string,
    init?: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  /** A project whose repository holds `pipeline`, created through A. */
  project(name: string, pipeline: string): Promise<string>;
  start(server: ServerName, projectId: string): Promise<string>;
  execution(server: ServerName, id: string): Promise<ExecutionView>;
  ended(server: ServerName, id: string): Promise<ExecutionView>;
  /** GET /api/executions/:id/logs (?step=NAME: one step's lines, unprefixed). */
  logs(server: ServerName, id: string, step?: string): Promise<string>;
  /** pollUntil, its failure telling what every process of the cluster printed last. */
  wait<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false): Promise<T>;
  /** Kills every process of the cluster (SIGKILL), for the end of a test. */
  stop(): Promise<void>;
  runner(
    name: string,
    options: { servers: ServerName[]; host?: string; through?: readonly string[]; capacity?: number },
  ): Promise<RunnerProcess>;
}

/** A port nothing listens on now, on every interface (the servers listen on 0.0.0.0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '0.0.0.0', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

export async function startCluster(
  cleanups: Cleanups,
  /** `queue`: a redis:// URL of its own (a database number per cluster). */
  options: { queue: string; runners: string[]; serveArgs?: string[] },
): Promise<Cluster> {
  const dir = await cleanups.tempDir('gbcms-cluster-');
  const data = join(dir, 'server');
  const database = await (await postgresCluster()).createDatabase();
  const store = await openStore(data, { database });
  const admin = await store.users.create({ username: 'admin', role: 'admin' });
  const adminToken = (await store.tokens.create(admin.id, 'test')).token;
  const runnerTokens: Record<string, string> = {};
  for (const name of options.runners)
    runnerTokens[name] = (await store.runners.create({ name, labels: [] })).token;
  await store.close();

  const processes: { name: string; child: Served['child']; output(): string }[] = [];
  const started: string[] = [];
  const stop = async () => {
    for (const { child } of processes) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
  };
  const wait: Cluster['wait'] = (what, check) =>
    pollUntil(what, check).catch((error: Error) => {
      const tails = processes.map(({ name, output }) => `--- ${name}:\n${output().slice(-3000)}`);
      error.message += `\n${tails.join('\n')}`;
      throw error;
    });
  cleanups.onCleanup(async () => {
    await stop();
    // What runners killed mid-step left on the engine.
    for (const id of started) {
      for (const info of await docker
        .listContainers({ all: true, filters: labelFilter(LABEL_RUN, id) })
        .catch(() => [])) {
        await docker
          .getContainer(info.Id)
          .remove({ force: true })
          .catch(() => {});
      }
    }
  });

  const serve = async (name: ServerName): Promise<ClusterServer> => {
    const common = [
      '--database',
      database,
      '--queue',
      options.queue,
      '--dispatch',
      'runners',
      '--host',
      '0.0.0.0',
      // The tests poll many executions at once from one address.
      '--rate-limit',
      '100000',
      '--max-running',
      '50',
      ...(options.serveArgs ?? []),
    ];
    for (let attempt = 0; ; attempt += 1) {
      // Another process may take the port between the probe and the server's bind: try another.
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const args = [...common, '--port', String(port), '--server-name', name, '--advertise-url', url];
      try {
        const served = await serveProcess(data, 'docker', process.env, args);
        processes.push({ name: `server ${name}`, ...served });
        return { name, port, url, served };
      } catch (error) {
        if (attempt >= 2 || !/EADDRINUSE/.test(String(error))) throw error;
      }
    }
  };
  const servers = { A: await serve('A'), B: await serve('B') };
  const url = (server: ServerName, host = '127.0.0.1') => `http://${host}:${servers[server].port}`;

  const api: Cluster['api'] = (server, path, init = {}) =>
    fetch(`${url(server)}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        authorization: `Bearer ${init.token ?? adminToken}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const json = async <T>(response: Response, expected: number, what: string): Promise<T> => {
    const text = await response.text();
    if (response.status !== expected)
      throw new Error(`${what}: ${response.status}, not ${expected}: ${text}`);
    return JSON.parse(text) as T;
  };
  const execution: Cluster['execution'] = async (server, id) =>
    json<ExecutionView>(await api(server, `/api/executions/${id}`), 200, `execution ${id} on ${server}`);

  return {
    dir,
    data,
    database,
    servers,
    adminToken,
    runnerTokens,
    url,
    api,
    async project(name, pipeline) {
      const repo = join(dir, 'repos', name);
      await mkdir(repo, { recursive: true });
      await writeFile(join(repo, '.gbcms.yml'), pipeline);
      // Room for every execution at once: a project runs one at a time by default.
      const body = { name, repo, visibility: 'public', max_concurrent: 20 };
      return (await json<{ id: string }>(await api('A', '/api/projects', { body }), 201, 'project')).id;
    },
    async start(server, projectId) {
      const response = await api(server, '/api/executions', { body: { project_id: projectId } });
      const { id } = await json<{ id: string }>(response, 201, `start on ${server}`);
      started.push(id);
      return id;
    },
    execution,
    wait,
    stop,
    ended: (server, id) =>
      wait(`execution ${id} to end, seen from ${server}`, async () => {
        const view = await execution(server, id);
        return view.ended_at !== null && view;
      }),
    async logs(server, id, step) {
      const query = step === undefined ? '' : `?step=${encodeURIComponent(step)}`;
      const response = await api(server, `/api/executions/${id}/logs${query}`);
      const text = await response.text();
      if (response.status !== 200) throw new Error(`logs of ${id} on ${server}: ${response.status} ${text}`);
      return text;
    },
    async runner(name, runnerOptions) {
      const token = runnerTokens[name];
      if (token === undefined) throw new Error(`no runner ${name} registered`);
      const urls = runnerOptions.servers.map((server) => url(server, runnerOptions.host));
      const child = runnerProcess({
        server: urls.join(','),
        token,
        data: join(dir, 'runner-data', name),
        name,
        backend: 'docker',
        capacity: runnerOptions.capacity ?? 2,
        through: runnerOptions.through,
      });
      processes.push({ name: `runner ${name} (${urls.join(',')})`, ...child });
      return child;
    },
  };
}
