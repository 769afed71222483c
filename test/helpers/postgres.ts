// A throwaway PostgreSQL cluster for tests: started on first use, one per test process (each
// test file runs in a process of its own), with a fresh database per store a test opens. It
// goes when the process goes: stopped on exit, and by a watchdog when the process is killed.
//
// Debian's server binaries (/usr/lib/postgresql/<version>/bin, package postgresql) or
// $GBCMS_PG_BIN. initdb refuses to run as root: as root the cluster belongs to the `postgres`
// user, in a temporary folder it owns. When PostgreSQL cannot start, the tests using it fail.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

export interface PostgresCluster {
  /** Creates an empty database (UTF-8, C collation) and returns its postgres:// URL. */
  createDatabase(): Promise<string>;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly adminUrl: string;
}

const ROOT = process.getuid?.() === 0;
const START_ATTEMPTS = 3;

function binDir(): string {
  const chosen = process.env.GBCMS_PG_BIN;
  if (chosen) return chosen;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error(
      `no PostgreSQL server in ${base}/*/bin (apt-get install postgresql, or set GBCMS_PG_BIN)`,
    );
  }
  return join(base, newest, 'bin');
}

/** argv that runs `tool` as the cluster's owner: the postgres user when we are root. */
function asOwner(bin: string, tool: string, args: string[]): [string, string[]] {
  const path = join(bin, tool);
  return ROOT ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

const execFileAsync = promisify(execFile);

/** Runs in the cluster's folder: the postgres user may not be allowed into the test's cwd. */
async function run(bin: string, dir: string, tool: string, args: string[]): Promise<void> {
  const [command, argv] = asOwner(bin, tool, args);
  try {
    await execFileAsync(command, argv, { cwd: dir });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${tool} ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

/**
 * A folder the cluster's owner can write: the system's temporary folder when the postgres user
 * can reach it (TMPDIR may point somewhere private to root), /tmp otherwise.
 */
async function clusterFolder(): Promise<string> {
  for (const base of [...new Set([tmpdir(), '/tmp'])]) {
    const dir = await mkdtemp(join(base, 'gbcms-pg-'));
    if (!ROOT) return dir;
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    await chown(dir, uid, gid);
    if (spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir]).status === 0) return dir;
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(`the postgres user can write neither in ${tmpdir()} nor in /tmp`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** Stops the cluster and removes its folder when this process ends, however it ends. */
function removeOnExit(bin: string, dir: string): void {
  const data = join(dir, 'data');
  const [command, argv] = asOwner(bin, 'pg_ctl', ['stop', '-D', data, '-m', 'immediate']);
  const stop = [command, ...argv].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  // Killed processes run no exit handler: a detached shell waits for this one to end.
  const watchdog = spawn(
    'sh',
    [
      '-c',
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stop} >/dev/null 2>&1; rm -rf '${dir}'`,
    ],
    { cwd: dir, detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  process.once('exit', () => {
    if (existsSync(join(data, 'postmaster.pid'))) spawnSync(command, argv, { cwd: dir, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
}

async function startCluster(): Promise<PostgresCluster> {
  const bin = binDir();
  const dir = await clusterFolder();
  removeOnExit(bin, dir);
  const data = join(dir, 'data');
  // No locale: text sorts byte by byte, as in SQLite (README: createdb --locale=C).
  await run(bin, dir, 'initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--no-locale',
    '--no-sync',
  ]);
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt += 1) {
    // Another process may take the port between our probe and the server's bind: try another.
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses='127.0.0.1'",
      // Throwaway data: durability only costs time.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    try {
      await run(bin, dir, 'pg_ctl', [
        'start',
        '-w',
        '-t',
        '120',
        '-D',
        data,
        '-l',
        join(dir, 'log'),
        '-o',
        settings,
      ]);
      return cluster(port);
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`PostgreSQL did not start in ${dir}`, { cause: lastError });
}

function cluster(port: number): PostgresCluster {
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let databases = 0;
  return {
    adminUrl: url('postgres'),
    async createDatabase() {
      databases += 1;
      const name = `gbcms_test_${databases}`;
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
  };
}

let started: Promise<PostgresCluster> | undefined;

/** This process's cluster, started on the first call. */
export function postgresCluster(): Promise<PostgresCluster> {
  started ??= startCluster();
  return started;
}
