// A throwaway Redis for tests: Debian's redis-server (package redis-server, or $GBCMS_REDIS_SERVER)
// on a free port of 127.0.0.1, its files in a temporary folder. It can be stopped and started
// again on the same port and folder, as a Redis restarted under a running server would be. It
// goes when the test process goes: stopped on exit, and by a watchdog when the process is killed.
//
// Persistence is the append-only file (appendonly yes), not snapshots: a snapshot is written
// only every so often, so work queued just before a restart would be gone after it, whereas
// every write is in the AOF before Redis answers a clean shutdown (and at most a second of
// writes is lost if Redis is killed). Lease locks are kept with their absolute expiry times, so
// a lease still runs out when it should across a restart.
//
// Where redis-server is missing, the tests using it fail and say what to install: the queue
// they test exists, so they never skip.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pollUntil } from './poll.ts';

const BINARY = process.env.GBCMS_REDIS_SERVER ?? '/usr/bin/redis-server';
const START_ATTEMPTS = 3;

if (spawnSync(BINARY, ['--version']).status !== 0) {
  throw new Error(
    `${BINARY} cannot run: the Redis queue's tests need a real Redis (apt-get install redis-server, or set GBCMS_REDIS_SERVER)`,
  );
}

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Its working folder: the append-only file and its log. */
  readonly dir: string;
  /** Shuts it down cleanly (everything written is in the AOF) and waits for the process to end. */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder, with what the AOF kept. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
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

function serverArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--pidfile',
    join(dir, 'redis.pid'),
    '--logfile',
    join(dir, 'redis.log'),
    '--daemonize',
    'no',
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    // No snapshots: the AOF alone holds the data.
    '--save',
    '',
  ];
}

/** Resolves once the server answers PING; rejects when the process ended first. */
async function answered(child: ChildProcess, port: number, dir: string): Promise<void> {
  let ended = false;
  void once(child, 'exit').then(() => {
    ended = true;
  });
  await pollUntil(`redis-server on port ${port}`, async () => {
    if (ended) {
      const log = existsSync(join(dir, 'redis.log')) ? readFileSync(join(dir, 'redis.log'), 'utf8') : '';
      throw new Error(`redis-server on port ${port} ended at start:\n${log.slice(-2000)}`);
    }
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  });
}

/** Kills the server and removes its folder when this process ends, however it ends. */
function removeOnExit(dir: string): void {
  const pidFile = join(dir, 'redis.pid');
  // Killed processes run no exit handler: a detached shell waits for this one to end.
  const watchdog = spawn(
    'sh',
    [
      '-c',
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
        `[ -f '${pidFile}' ] && kill -9 "$(cat '${pidFile}')" 2>/dev/null; rm -rf '${dir}'`,
    ],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  process.once('exit', () => {
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
}

/** A fresh redis-server of its own, running. */
export async function startRedis(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-redis-'));
  removeOnExit(dir);
  let child: ChildProcess | undefined;
  const launch = async (port: number) => {
    const started = spawn(BINARY, serverArgs(port, dir), { cwd: dir, stdio: 'ignore' });
    try {
      await answered(started, port, dir);
    } catch (error) {
      if (started.exitCode === null) started.kill('SIGKILL');
      throw error;
    }
    child = started;
  };
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS && child === undefined; attempt += 1) {
    // Another process may take the port between the probe and the server's bind: try another.
    port = await freePort();
    await launch(port).catch((error: unknown) => {
      lastError = error;
    });
  }
  if (child === undefined) throw new Error(`redis-server did not start in ${dir}`, { cause: lastError });

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = once(running, 'exit');
    // SIGTERM is Redis's clean shutdown: the AOF is flushed and fsynced before it exits.
    running.kill('SIGTERM');
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    async start() {
      if (child) throw new Error('redis-server is already running');
      await launch(port);
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
