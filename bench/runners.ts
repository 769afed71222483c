// `npm run bench:runners`: runners against the single-process server, with real `gbcms serve`
// and `gbcms runner` processes on this machine's Docker:
// - dispatch latency: from an execution's creation (POST /api/executions) to the start of its
//   first step container (Docker's start event), p50 and p95 over BENCH_RUNNER_ROUNDS rounds
//   (default 10) that alternate a `--dispatch runners` server (one runner, long-polling) and a
//   `--dispatch local` server, the baseline;
// - throughput: BENCH_RUNNER_EXECUTIONS executions (default 30) of one step that sleeps
//   BENCH_RUNNER_SLEEP seconds (default 2), all created at once, on 1 runner of capacity 1 and
//   then on 3 runners of capacity 1: the wall time from the first creation to the last end.
//   The target is near 3x.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { openStore } from '../server/store/index.ts';
import { ensureBusyboxImage } from '../test/helpers/build-images.ts';
import { type RunnerProcess, runnerProcess } from '../test/server/helpers/runner-process.ts';
import { gitRepository } from './server/fixture.ts';
import { type Listening, serve } from './server/processes.ts';
import { firstStepStart } from './server/webhook-start.ts';

const ROUNDS = Number(process.env.BENCH_RUNNER_ROUNDS ?? 10);
const EXECUTIONS = Number(process.env.BENCH_RUNNER_EXECUTIONS ?? 30);
const SLEEP_S = Number(process.env.BENCH_RUNNER_SLEEP ?? 2);
const IMAGE = 'busybox:stable';

const step = (command: string) =>
  `version: 1\nsteps:\n  only:\n    image: ${IMAGE}\n    commands: [${JSON.stringify(command)}]\n`;

/** Nearest rank: with 10 samples the p95 is the slowest. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function report(what: string, candidate: string, baseline: string, ratio: string) {
  console.log(`${what}: runners ${candidate}, single process ${baseline}, ratio ${ratio}`);
}

interface Server {
  listening: Listening;
  data: string;
  /** Tokens of the runners registered on it, by name. */
  runnerTokens: Map<string, string>;
  api(path: string, body?: unknown): Promise<unknown>;
  project(name: string, pipeline: string): Promise<string>;
  start(project: string): Promise<string>;
  ended(id: string): Promise<{ status: string; ended_at: string }>;
}

async function startServer(dir: string, name: string, args: string[], runners: string[]): Promise<Server> {
  const data = join(dir, name);
  const store = await openStore(data);
  const admin = await store.users.create({ username: 'admin', role: 'admin' });
  const { token } = await store.tokens.create(admin.id, 'bench');
  const runnerTokens = new Map<string, string>();
  for (const runner of runners)
    runnerTokens.set(runner, (await store.runners.create({ name: runner, labels: [] })).token);
  await store.close();
  const listening = await serve({
    data,
    backend: 'docker',
    logFile: join(dir, `${name}.log`),
    args: ['--max-running', String(EXECUTIONS), '--log-level', 'warn', ...args],
  });
  const api = async (path: string, body?: unknown) => {
    const response = await fetch(`${listening.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${text}`);
    return JSON.parse(text) as unknown;
  };
  return {
    listening,
    data,
    runnerTokens,
    api,
    async project(projectName, pipeline) {
      const { bare } = await gitRepository(join(dir, `${name}-${projectName}`), pipeline);
      const body = { name: projectName, repo: bare, visibility: 'public', max_concurrent: EXECUTIONS };
      return ((await api('/api/projects', body)) as { id: string }).id;
    },
    async start(project) {
      return ((await api('/api/executions', { project_id: project })) as { id: string }).id;
    },
    async ended(id) {
      for (;;) {
        const execution = (await api(`/api/executions/${id}`)) as { status: string; ended_at: string | null };
        if (execution.ended_at !== null) {
          if (execution.status !== 'success') throw new Error(`execution ${id} ended ${execution.status}`);
          return { status: execution.status, ended_at: execution.ended_at };
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

function runner(server: Server, dir: string, name: string): RunnerProcess {
  return runnerProcess({
    server: server.listening.url,
    token: server.runnerTokens.get(name) ?? '',
    data: join(dir, `runner-${name}`),
    name,
    backend: 'docker',
  });
}

/** Waits until the server lists `names` as connected runners. */
async function connected(server: Server, names: string[]): Promise<void> {
  for (;;) {
    const { items } = (await server.api('/api/runners')) as { items: { name: string; connected: boolean }[] };
    if (names.every((name) => items.some((item) => item.name === name && item.connected))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function dispatchLatency(dir: string, docker: Docker, children: RunnerProcess[]): Promise<void> {
  const remote = await startServer(dir, 'runners', ['--dispatch', 'runners'], ['r1']);
  const local = await startServer(dir, 'local', ['--dispatch', 'local'], []);
  const starts = firstStepStart(docker);
  try {
    children.push(runner(remote, dir, 'r1'));
    await connected(remote, ['r1']);
    const paths = [
      { server: remote, project: await remote.project('latency', step('true')), ms: [] as number[] },
      { server: local, project: await local.project('latency', step('true')), ms: [] as number[] },
    ];
    // Round 0 warms both (first clone, image lookups) and is left out.
    for (let round = 0; round <= ROUNDS; round++) {
      for (const path of paths) {
        const created = performance.now();
        const id = await path.server.start(path.project);
        const ms = (await starts.of(id)) - created;
        await path.server.ended(id);
        if (round > 0) path.ms.push(ms);
      }
    }
    const [runners, single] = paths.map((path) => path.ms) as [number[], number[]];
    const figures = (values: number[]) =>
      `p50 ${percentile(values, 50).toFixed(0)} ms, p95 ${percentile(values, 95).toFixed(0)} ms`;
    report(
      `dispatch latency, execution created -> first step container started (${ROUNDS} rounds each)`,
      figures(runners),
      figures(single),
      `p50 ${(percentile(runners, 50) / percentile(single, 50)).toFixed(2)}x, p95 ${(percentile(runners, 95) / percentile(single, 95)).toFixed(2)}x`,
    );
  } finally {
    starts.close();
    await remote.listening.stop();
    await local.listening.stop();
  }
}

/** Creates every execution at once; milliseconds from the first creation to the last end. */
async function wallTime(server: Server, project: string): Promise<number> {
  const createdAt = Date.now();
  const ids: string[] = [];
  for (let n = 0; n < EXECUTIONS; n++) ids.push(await server.start(project));
  const ends = await Promise.all(ids.map((id) => server.ended(id)));
  return Math.max(...ends.map((end) => Date.parse(end.ended_at))) - createdAt;
}

async function throughput(dir: string, children: RunnerProcess[]): Promise<void> {
  const server = await startServer(dir, 'throughput', ['--dispatch', 'runners'], ['t1', 't2', 't3']);
  try {
    const project = await server.project('sleepy', step(`sleep ${SLEEP_S}`));
    children.push(runner(server, dir, 't1'));
    await connected(server, ['t1']);
    await server.ended(await server.start(project)); // warm-up
    const one = await wallTime(server, project);
    children.push(runner(server, dir, 't2'), runner(server, dir, 't3'));
    await connected(server, ['t1', 't2', 't3']);
    const three = await wallTime(server, project);
    const floor = (EXECUTIONS * SLEEP_S * 1000) / 3;
    console.log(
      `throughput, ${EXECUTIONS} executions of one 'sleep ${SLEEP_S}' step: 1 runner ${(one / 1000).toFixed(1)} s, ` +
        `3 runners ${(three / 1000).toFixed(1)} s (floor ${(floor / 1000).toFixed(1)} s), ` +
        `speed-up ${(one / three).toFixed(2)}x (target near 3x)`,
    );
  } finally {
    await server.listening.stop();
  }
}

async function main() {
  await ensureBusyboxImage();
  const docker = new Docker();
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-bench-runners-'));
  const children: RunnerProcess[] = [];
  const parts = process.argv.slice(2);
  try {
    if (parts.length === 0 || parts.includes('latency')) await dispatchLatency(dir, docker, children);
    if (parts.length === 0 || parts.includes('throughput')) await throughput(dir, children);
  } finally {
    for (const child of children) {
      if (child.child.exitCode === null) child.child.kill('SIGTERM');
      await child.exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
