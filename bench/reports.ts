// Report ingestion, end to end: points posted to a real `gbcms serve` (a child process) until
// the store holds them all, with the server's CPU share; against the floor of inserting the
// same rows straight into SQLite in this process.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { cpuSeconds } from './server/processes.ts';

const exec = promisify(execFile);
const bin = join(import.meta.dirname, '..', 'bin', 'gbcms.js');
const POINTS = Number(process.env.BENCH_REPORT_POINTS ?? 100_000);
const BATCH = 1000;
const PARALLEL = 4;

function points(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    type: 'metric',
    name: 'loss',
    value: 1 / (from + i + 1),
    step: from + i,
  }));
}

async function serverIngestion(): Promise<{ perSecond: number; cpuShare: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-bench-reports-'));
  const data = join(dir, 'data');
  const token = (
    await exec(process.execPath, [bin, 'token', 'create', '--role', 'admin', '--data', data])
  ).stdout.trim();
  const server = spawn(
    process.execPath,
    [
      bin,
      'serve',
      '--port',
      '0',
      '--data',
      data,
      '--backend',
      'local',
      '--log-level',
      'warn',
      '--rate-limit',
      '1000000',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      server.stderr.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(text);
        if (match?.[1]) resolve(match[1]);
      });
      server.once('exit', (code) => reject(new Error(`gbcms serve exited with ${code}: ${text}`)));
    });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
      return response.json() as Promise<{ id: string }>;
    };
    const project = await post('/api/projects', { name: 'bench', repo: dir });
    const execution = await post('/api/executions', {
      project_id: project.id,
      external: true,
      heartbeat_timeout: 3600,
    });
    const stored = async () => {
      const response = await fetch(`${url}/api/executions/${execution.id}/metrics`, { headers });
      const body = (await response.json()) as { items?: Array<{ count: number }> } | Array<{ count: number }>;
      const items = Array.isArray(body) ? body : (body.items ?? []);
      return items.reduce((sum, item) => sum + item.count, 0);
    };

    const cpuBefore = await cpuSeconds(server.pid!);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < POINTS) {
          const from = next;
          next += BATCH;
          await post(`/api/executions/${execution.id}/reports`, points(from, Math.min(BATCH, POINTS - from)));
        }
      }),
    );
    while ((await stored()) < POINTS) await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - started) / 1000;
    const cpu = (await cpuSeconds(server.pid!)) - cpuBefore;
    return { perSecond: POINTS / seconds, cpuShare: cpu / seconds };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The floor: the same rows inserted into SQLite directly, one transaction per batch. */
async function rawSqlite(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-bench-sqlite-'));
  const db = new Database(join(dir, 'raw.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.exec(
      'create table reports (execution_id text, seq integer, step text, type text, name text, value real, step_number integer, time text, data text)',
    );
    const insert = db.prepare('insert into reports values (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const batch = db.transaction((rows: ReturnType<typeof points>, from: number) => {
      rows.forEach((row, i) => {
        insert.run(
          'x',
          from + i,
          'external',
          row.type,
          row.name,
          row.value,
          row.step,
          new Date().toISOString(),
          null,
        );
      });
    });
    const started = performance.now();
    for (let from = 0; from < POINTS; from += BATCH) batch(points(from, BATCH), from);
    return POINTS / ((performance.now() - started) / 1000);
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const raw = await rawSqlite();
const server = await serverIngestion();
console.log(
  `report ingestion, ${POINTS} points in batches of ${BATCH} over HTTP: ${server.perSecond.toFixed(0)} points/s end to end into the store, server CPU ${(server.cpuShare * 100).toFixed(0)}% of one core; raw SQLite insert ${raw.toFixed(0)} points/s; ratio ${(server.perSecond / raw).toFixed(2)}`,
);
