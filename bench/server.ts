// Server figures, each against a baseline run in the same process:
// - API throughput of GET /api/executions/:id against a hello-world route on the same server;
// - time from a GitHub webhook's receipt to the first step's container start, against the
//   raw create+start of the same kind of container.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { DockerBackend } from '../engine/backends/docker/backend.ts';
import { FakeBackend } from '../engine/backends/fake.ts';
import { type PageServer, startPageServer } from '../scripts/page-server.ts';
import { signBody } from '../server/webhooks/signature.ts';

const exec = promisify(execFile);
const require = createRequire(import.meta.url);
const docker = new Docker();
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 3);
const CONNECTIONS = 10;

/** Requests per second that `CONNECTIONS` keep-alive loops get from `url` in `seconds`. */
async function throughput(url: string, headers: Record<string, string>, seconds: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < until) {
        const response = await fetch(url, { headers });
        if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`);
        await response.arrayBuffer();
        done += 1;
      }
    }),
  );
  return done / seconds;
}

async function withServer<T>(backend: 'fake' | 'docker', body: (ctx: PageServer) => Promise<T>): Promise<T> {
  const server = await startPageServer(
    backend === 'fake' ? new FakeBackend() : new DockerBackend({ docker }),
  );
  try {
    return await body(server);
  } finally {
    await server.close();
  }
}

async function repoWithPipeline(dir: string, pipeline: string): Promise<{ bare: string; commit: string }> {
  const bare = join(dir, 'app.git');
  const work = join(dir, 'work');
  const git = (cwd: string, ...args: string[]) =>
    exec('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', ...args], { cwd });
  await exec('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  await exec('git', ['init', '-q', '-b', 'main', work]);
  await writeFile(join(work, '.gbcms.yml'), pipeline);
  await git(work, 'add', '.');
  await git(work, 'commit', '-q', '-m', 'bench');
  await git(work, 'push', '-q', bare, 'main');
  return { bare, commit: (await git(work, 'rev-parse', 'HEAD')).stdout.trim() };
}

async function apiThroughput(): Promise<void> {
  await withServer('fake', async ({ url, token, dir, manager, store }) => {
    const { bare } = await repoWithPipeline(
      dir,
      'version: 1\nsteps:\n  build:\n    image: busybox:stable\n    commands: ["make"]\n  test:\n    image: busybox:stable\n    commands: ["make test"]\n',
    );
    const project = await store.projects.create({
      name: 'bench',
      repo: bare,
      visibility: 'public',
      owner_id: null,
    });
    const execution = await manager.start({
      project,
      trigger: { event: 'manual', branch: 'main' },
      source: { kind: 'project' },
    });
    await new Promise<void>((resolve) => {
      void manager.subscribe(execution.id, (event) => {
        if (event.type === 'end') resolve();
      });
    });
    const headers = { authorization: `Bearer ${token}` };
    // /healthz answers a constant document: the hello-world route of this server.
    await throughput(`${url}/healthz`, headers, 1); // warm-up
    const hello = await throughput(`${url}/healthz`, headers, LOAD_SECONDS);
    const api = await throughput(`${url}/api/executions/${execution.id}`, headers, LOAD_SECONDS);
    console.log(
      `GET /api/executions/:id: ${api.toFixed(0)} req/s; hello-world route (/healthz): ${hello.toFixed(0)} req/s; ratio ${(api / hello).toFixed(2)} (${CONNECTIONS} connections, client in the same process)`,
    );
  });
}

interface PushExample {
  name: string;
  examples: Array<Record<string, unknown>>;
}

async function webhookToContainer(): Promise<void> {
  const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as PushExample[];
  const push = structuredClone(
    examples
      .find((e) => e.name === 'push')
      ?.examples.find((p) => p.ref === 'refs/heads/master' && p.deleted === false),
  );
  if (!push) throw new Error('no push example');

  // Floor: the raw create+start of a hardened busybox container.
  const floorStarted = performance.now();
  const raw = await docker.createContainer({
    Image: 'busybox:stable',
    Cmd: ['true'],
    HostConfig: {
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      ReadonlyRootfs: true,
      SecurityOpt: ['no-new-privileges'],
    },
  });
  await raw.start();
  const floor = performance.now() - floorStarted;
  await raw.remove({ force: true });

  await withServer('docker', async ({ url, dir, store }) => {
    const { bare, commit } = await repoWithPipeline(
      dir,
      'version: 1\nsteps:\n  first:\n    image: busybox:stable\n    commands: ["true"]\n',
    );
    const project = await store.projects.create({
      name: 'hooked',
      repo: bare,
      visibility: 'public',
      owner_id: null,
    });
    const payload = { ...push, ref: 'refs/heads/main', after: commit, commits: [], head_commit: null };
    const body = JSON.stringify(payload);
    const events = await docker.getEvents({
      filters: { type: ['container'], event: ['start'], label: ['gbcms.managed=true'] },
    });
    const firstStart = new Promise<number>((resolve) => {
      events.on('data', () => resolve(performance.now()));
    });
    const received = performance.now();
    const response = await fetch(`${url}/hooks/github/${project.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': `bench-${Date.now()}`,
        'x-hub-signature-256': signBody(project.webhook_secret, body),
      },
      body,
    });
    if (response.status !== 202) throw new Error(`webhook: HTTP ${response.status} ${await response.text()}`);
    const started = await firstStart;
    (events as unknown as { destroy(): void }).destroy();
    const ms = started - received;
    console.log(
      `webhook receipt -> first step container started: ${ms.toFixed(0)} ms (git fetch, lint, plan, workspace volume, container); raw create+start: ${floor.toFixed(0)} ms; ratio ${(ms / floor).toFixed(1)}x`,
    );
  });
}

const only = process.argv.slice(2);
if (only.length === 0 || only.includes('api')) await apiThroughput();
if (only.length === 0 || only.includes('webhook')) await webhookToContainer();
