// Server figures, each against a baseline measured in the same run, in rounds that alternate
// baseline and candidate (medians printed):
// - throughput of the real `gbcms serve` (a child process, default log settings) under
//   autocannon (another process) on the API, badges and webhooks, against a Fastify
//   hello-world child measured the same way;
// - report ingestion over HTTP in batches of 50, against raw prepared inserts of the same rows
//   into the same SQLite table, with the p99 of the run page while it goes on;
// - a GitHub push webhook's receipt to its first step container's start (Docker), against the
//   raw create+start of the same hardened container (webhook-start.ts).
// BENCH_SERVER_ROUNDS (default 3), BENCH_LOAD_SECONDS (default 5), BENCH_WEBHOOK_ROUNDS
// (default 5) size it; BENCH_CPU_PROF=<dir> writes a CPU profile of the server; arguments
// `load`, `ingest`, `webhook` pick parts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportBatch, type ServerFixture, serverFixture } from './server/fixture.ts';
import type { LoadResult, LoadSpec } from './server/load-client.ts';
import { cpuSeconds, fileSize, helloWorld, type Listening, load, serve } from './server/processes.ts';
import { rawReportInserts } from './server/raw-sqlite.ts';
import { githubHeaders, githubPush, webhookToContainer } from './server/webhook-start.ts';

const ROUNDS = Number(process.env.BENCH_SERVER_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 5);
const WEBHOOK_ROUNDS = Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 5);
const CONNECTIONS = 10;
const REPORT_BATCH = 50;
/** Run-page viewers while reports pour in. */
const PAGE_CONNECTIONS = 2;
const PAGE_P99_TARGET_MS = 100;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const range = (values: number[], digits = 0) =>
  `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`;

function checked(what: string, result: LoadResult): LoadResult {
  if (result.failed > 0 || result.ok === 0) {
    throw new Error(`${what}: ${result.failed} failed answers (${JSON.stringify(result.statuses)})`);
  }
  return result;
}

interface Target {
  name: string;
  spec(fixture: ServerFixture, server: string): LoadSpec;
}

const TARGETS: Target[] = [
  {
    name: 'GET /api/executions/:id (public project)',
    spec: (f, url) => ({
      url: `${url}/api/executions/${f.publicExecution}`,
      connections: CONNECTIONS,
      seconds: SECONDS,
    }),
  },
  {
    name: 'GET /api/executions/:id (private project, API token)',
    spec: (f, url) => ({
      url: `${url}/api/executions/${f.privateExecution}`,
      headers: { authorization: `Bearer ${f.token}` },
      connections: CONNECTIONS,
      seconds: SECONDS,
    }),
  },
  {
    name: 'GET /badges/:project.svg',
    spec: (f, url) => ({
      url: `${url}/badges/${f.publicProject.id}.svg`,
      connections: CONNECTIONS,
      seconds: SECONDS,
    }),
  },
  {
    name: 'POST /hooks/github/:project (signed push deliveries, a branch deleted: checked, recorded, nothing started)',
    spec: (f, url) => {
      const body = githubPush('0000000000000000000000000000000000000000', { deleted: true });
      return {
        url: `${url}/hooks/github/${f.publicProject.id}`,
        method: 'POST',
        headers: githubHeaders(f.publicProject.webhookSecret, body, 'replaced per request'),
        body,
        uniqueHeader: 'x-github-delivery',
        connections: CONNECTIONS,
        seconds: SECONDS,
      };
    },
  },
];

async function withServers<T>(
  body: (f: ServerFixture, gbcms: Listening, hello: Listening, log: string) => Promise<T>,
) {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-bench-server-'));
  const fixture = await serverFixture(dir);
  const log = join(dir, 'serve.log');
  const cpuProfileDir = process.env.BENCH_CPU_PROF;
  const gbcms = await serve({
    data: fixture.data,
    backend: 'local',
    logFile: log,
    ...(cpuProfileDir ? { cpuProfileDir } : {}),
  });
  const hello = await helloWorld();
  try {
    return await body(fixture, gbcms, hello, log);
  } finally {
    await Promise.all([gbcms.stop(), hello.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

async function throughputs(): Promise<void> {
  await withServers(async (fixture, gbcms, hello, log) => {
    const helloSpec = { url: `${hello.url}/`, connections: CONNECTIONS, seconds: SECONDS };
    await load({ ...helloSpec, seconds: 1 }); // warm-up, both
    await load({ ...TARGETS[0]!.spec(fixture, gbcms.url), seconds: 1 });
    const logBefore = await fileSize(log);
    const started = performance.now();
    const ratios = new Map<string, number[]>(TARGETS.map((t) => [t.name, []]));
    const rates = new Map<string, number[]>(TARGETS.map((t) => [t.name, []]));
    const helloRates: number[] = [];
    const cpuPerAnswer = new Map<string, number[]>(TARGETS.map((t) => [t.name, []]));
    const helloCpu: number[] = [];
    /** The run, with the server's CPU microseconds per answer: a figure the machine's load hardly moves. */
    const measured = async (what: string, server: Listening, spec: LoadSpec) => {
      const before = await cpuSeconds(server.child.pid ?? 0);
      const result = checked(what, await load(spec));
      const cpuUs = (((await cpuSeconds(server.child.pid ?? 0)) - before) * 1e6) / result.ok;
      return { rate: result.perSecond, cpuUs };
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const target of TARGETS) {
        // Hello world right before each target: both see the same load from the rest of the machine.
        const base = await measured('hello world', hello, helloSpec);
        const { rate, cpuUs } = await measured(target.name, gbcms, target.spec(fixture, gbcms.url));
        helloRates.push(base.rate);
        helloCpu.push(base.cpuUs);
        rates.get(target.name)?.push(rate);
        ratios.get(target.name)?.push(rate / base.rate);
        cpuPerAnswer.get(target.name)?.push(cpuUs);
      }
    }
    const logMB = ((await fileSize(log)) - logBefore) / 1e6;
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `Fastify hello world (another process, ${CONNECTIONS} connections, autocannon in a third): median ${median(helloRates).toFixed(0)} req/s (${range(helloRates)}), ${median(helloCpu).toFixed(0)} µs of server CPU per answer`,
    );
    for (const target of TARGETS) {
      const r = rates.get(target.name) ?? [];
      const q = ratios.get(target.name) ?? [];
      console.log(
        `${target.name}: median ${median(r).toFixed(0)} req/s (${range(r)}); ratio to hello world ${median(q).toFixed(2)} (${range(q, 2)}); ${median(cpuPerAnswer.get(target.name) ?? []).toFixed(0)} µs of server CPU per answer`,
      );
    }
    console.log(`server log written during the rounds: ${logMB.toFixed(1)} MB in ${seconds.toFixed(0)} s`);
  });
}

async function ingestion(): Promise<void> {
  await withServers(async (fixture, gbcms) => {
    const headers = { authorization: `Bearer ${fixture.token}`, 'content-type': 'application/json' };
    const body = JSON.stringify(reportBatch(REPORT_BATCH));
    const ratios: number[] = [];
    const httpRates: number[] = [];
    const rawRates: number[] = [];
    const pageP99: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const dir = await mkdtemp(join(tmpdir(), 'gbcms-bench-raw-'));
      const raw = await rawReportInserts(dir, REPORT_BATCH, SECONDS).finally(() =>
        rm(dir, { recursive: true, force: true }),
      );
      const created = await fetch(`${gbcms.url}/api/executions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          project_id: fixture.publicProject.id,
          external: true,
          heartbeat_timeout: 3600,
        }),
      });
      if (created.status !== 201) throw new Error(`external execution: HTTP ${created.status}`);
      const { id } = (await created.json()) as { id: string };
      const started = performance.now();
      const [posted, page] = await Promise.all([
        load({
          url: `${gbcms.url}/api/executions/${id}/reports`,
          method: 'POST',
          headers,
          body,
          connections: CONNECTIONS,
          seconds: SECONDS,
        }),
        load({ url: `${gbcms.url}/executions/${id}`, connections: PAGE_CONNECTIONS, seconds: SECONDS }),
      ]);
      checked('report batches', posted);
      checked('run page', page);
      const entries = posted.ok * REPORT_BATCH;
      // Only what is stored counts: the figure ends when the store holds every entry.
      while ((await storedPoints(gbcms.url, id, headers)) < entries)
        await new Promise((r) => setTimeout(r, 20));
      const http = entries / ((performance.now() - started) / 1000);
      httpRates.push(http);
      rawRates.push(raw);
      ratios.push(http / raw);
      pageP99.push(page.p99Ms);
    }
    console.log(
      `report ingestion, batches of ${REPORT_BATCH} over HTTP (${CONNECTIONS} connections) until stored: median ${median(httpRates).toFixed(0)} entries/s (${range(httpRates)}); raw SQLite prepared insert, ${REPORT_BATCH} rows a transaction: ${median(rawRates).toFixed(0)} rows/s (${range(rawRates)}); ratio ${median(ratios).toFixed(2)} (${range(ratios, 2)}; target >= 0.50)`,
    );
    console.log(
      `run page (GET /executions/:id of that execution, ${PAGE_CONNECTIONS} connections) during ingestion: p99 median ${median(pageP99).toFixed(0)} ms (${range(pageP99)}; target <= ${PAGE_P99_TARGET_MS} ms)`,
    );
  });
}

async function storedPoints(url: string, id: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${url}/api/executions/${id}/metrics`, { headers });
  const { items } = (await response.json()) as { items: Array<{ count: number }> };
  return items.reduce((sum, item) => sum + item.count, 0);
}

async function webhook(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-bench-webhook-log-'));
  try {
    const { webhookMs, rawMs, fetchMs } = await webhookToContainer(WEBHOOK_ROUNDS, join(dir, 'serve.log'));
    const ratios = webhookMs.map((ms, i) => ms / (rawMs[i] ?? ms));
    console.log(
      `webhook receipt -> first step container started (Docker, local git source): median ${median(webhookMs).toFixed(0)} ms (${range(webhookMs)}); raw create+start of the same hardened container: ${median(rawMs).toFixed(0)} ms (${range(rawMs)}); ratio ${median(ratios).toFixed(2)}x (${range(ratios, 2)}; target <= 1.2x); git fetch of a warm clone: ${median(fetchMs).toFixed(0)} ms (${range(fetchMs)})`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const only = process.argv.slice(2);
if (only.length === 0 || only.includes('load')) await throughputs();
if (only.length === 0 || only.includes('ingest')) await ingestion();
if (only.length === 0 || only.includes('webhook')) await webhook();
