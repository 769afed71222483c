// `gbcms serve`: the server. Opens the store, picks the backend, settles what a previous
// process left (recover), sweeps old executions, and serves the API, webhooks, pages, badges
// and metrics. SIGTERM/SIGINT: running executions get the grace period to finish (new ones
// are refused with 503), then the rest are terminated and everything closes. A second signal
// stops them at once.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { selectBackend } from '../../engine/backends/registry.ts';
import type { CliIO } from '../../engine/cli/io.ts';
import { buildApp } from '../app.ts';
import { openMembers, startMembers } from '../cluster/join.ts';
import { ExecutionManager } from '../executions/index.ts';
import { envForgeTokens, forgeStatusReporter, secretForgeTokens } from '../forges/index.ts';
import { loggerOptions } from '../plugins/logger.ts';
import { RunnerHub } from '../runners/hub.ts';
import { openWorkQueue } from '../runners/open-work-queue.ts';
import { describeRedisUrl, isRedisUrl, resolveQueueUrl } from '../runners/queue-url.ts';
import { RedisUnreachableError } from '../runners/redis-connection.ts';
import type { WorkQueue } from '../runners/work-queue.ts';
import { Scheduler } from '../schedules/scheduler.ts';
import { secretKeySource } from '../secrets/key.ts';
import { SecretVault } from '../secrets/vault.ts';
import {
  describeDatabase,
  isPostgresUrl,
  MigrationError,
  openStore,
  resolveDatabase,
  resolveDataDir,
  type Store,
} from '../store/index.ts';
import { logDestination, resolveLogFormat } from './log-output.ts';
import {
  HELP,
  MAX_SWEEP_INTERVAL_MS,
  OPTIONS,
  readSettings,
  type ServeSettings,
  UsageError,
} from './serve-settings.ts';

export { readSettings, retention, type ServeSettings } from './serve-settings.ts';

/** On shutdown, how long queued forge statuses may take to go out: about as long as their retries. */
const STATUS_FLUSH_MS = 30_000;

export interface ServeHooks {
  /** Stops the server like SIGTERM does (tests). */
  signal?: AbortSignal;
  /** Called with the URL once the server listens. */
  onListening?: (url: string) => void;
}

export async function serveCommand(argv: string[], io: CliIO, hooks: ServeHooks = {}): Promise<number> {
  let settings: ServeSettings;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    settings = readSettings(values);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`gbcms serve: ${(error as Error).message}\n\n${HELP}`);
      return 2;
    }
    throw error;
  }
  return serve(settings, io, hooks);
}

/** pg's refusals on every address of a host come as an AggregateError with no message. */
function openErrorText(error: unknown): string {
  const { message, code } = error as { message?: string; code?: string };
  return message || code || String(error);
}

async function serve(settings: ServeSettings, io: CliIO, hooks: ServeHooks): Promise<number> {
  const logger = pino(
    loggerOptions({ level: settings.logLevel }),
    logDestination(resolveLogFormat(settings.logFormat, io.stdout), io.stdout),
  );
  const dataDir = resolveDataDir(settings.data, io);
  const database = resolveDatabase(settings.database, io.env);
  if (database !== undefined && !isPostgresUrl(database)) {
    io.stderr.write(`gbcms serve: GBCMS_DATABASE_URL must be a postgres:// URL\n`);
    return 2;
  }
  const queueUrl = resolveQueueUrl(settings.queue, io.env);
  if (queueUrl !== undefined && !isRedisUrl(queueUrl)) {
    io.stderr.write(`gbcms serve: GBCMS_QUEUE_URL must be a redis:// URL\n`);
    return 2;
  }
  const where = describeDatabase(dataDir, database);
  let backend: Awaited<ReturnType<typeof selectBackend>>;
  try {
    backend = await selectBackend(settings.backend, (message) =>
      io.stderr.write(`gbcms serve: ${message}\n`),
    );
  } catch (error) {
    io.stderr.write(`gbcms serve: ${(error as Error).message}\n`);
    return 1;
  }
  let store: Store;
  try {
    store = await openStore(dataDir, { database });
  } catch (error) {
    // A database gbcms cannot use, or a PostgreSQL it cannot reach (refused, no such database,
    // wrong password): the operator's to fix, not a crash.
    if (!(error instanceof MigrationError) && database === undefined) throw error;
    io.stderr.write(`gbcms serve: ${where}: ${openErrorText(error)}\n`);
    return 1;
  }
  let vault: SecretVault;
  try {
    const key = await secretKeySource(store.dataDir);
    vault = new SecretVault(store.secrets, key.read);
  } catch (error) {
    io.stderr.write(`gbcms serve: secret key: ${(error as Error).message}\n`);
    await store.close();
    return 1;
  }
  let queue: WorkQueue;
  try {
    const queueLogger = logger.child({ component: 'work-queue' });
    queue = await openWorkQueue(queueUrl, settings.runnerLeaseMs, (error) =>
      queueLogger.warn({ err: error }, 'work queue'),
    );
  } catch (error) {
    if (!(error instanceof RedisUnreachableError)) throw error;
    io.stderr.write(`gbcms serve: queue ${error.message}\n`);
    await store.close();
    return 1;
  }
  // Several servers share a PostgreSQL database; SQLite has one.
  const members = database === undefined ? undefined : await openMembers(store, settings, logger);
  const runners = new RunnerHub({
    store,
    dataDir: store.dataDir,
    ...(members ? { members } : {}),
    queue,
    leaseMs: settings.runnerLeaseMs,
    mode: settings.dispatch,
    logger: logger.child({ component: 'runners' }),
  });
  const manager = new ExecutionManager({
    store,
    ...(members ? { members } : {}),
    backend,
    runners,
    dataDir: store.dataDir,
    logger: logger.child({ component: 'executions' }),
    graceMs: 10_000,
    secrets: vault,
    cacheBudgetBytes: settings.cacheBudgetBytes,
    ...(settings.maxRunning !== undefined ? { maxRunning: settings.maxRunning } : {}),
  });
  const statuses = forgeStatusReporter({
    store,
    tokens: secretForgeTokens(vault, envForgeTokens()),
    publicUrl: settings.publicUrl,
    urls: settings.forgeUrls,
    notice: (id, message) => manager.notice(id, message),
    logger: logger.child({ component: 'forge-status' }),
  });
  manager.events.on('status', statuses.observe);
  manager.events.on('step-ended', statuses.observeStep);
  const scheduler = new Scheduler({
    store,
    start: (request) => manager.start(request),
    logger: logger.child({ component: 'schedules' }),
  });
  let stopRetention: (() => void) | undefined;
  let stopLeftoverSweep: (() => void) | undefined;
  let stopSchedules: (() => Promise<void>) | undefined;
  /** The file schedules read at start: the store stays open until it ends. */
  let startupSync: Promise<void> = Promise.resolve();
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  try {
    await manager.recover();
    stopLeftoverSweep = manager.sweeps.startLeftoverSweep(settings.leftoverSweepMs);
    // Caches are swept even when executions are kept for ever.
    stopRetention = manager.sweeps.startRetentionTimer(
      settings.retentionMs > 0 ? settings.retentionMs : null,
      settings.retentionMs > 0
        ? Math.min(MAX_SWEEP_INTERVAL_MS, settings.retentionMs)
        : MAX_SWEEP_INTERVAL_MS,
    );
    app = await buildApp({
      store,
      executions: manager,
      executionEvents: manager.events,
      secrets: vault,
      runners,
      ...(members ? { cluster: members } : {}),
      logger,
      accessLog: settings.accessLog,
      rateLimit: { max: settings.rateLimit, timeWindowMs: 60_000 },
      ...(settings.publicUrl !== undefined ? { publicUrl: settings.publicUrl } : {}),
      trustProxy: settings.trustProxy,
    });
    const address = await app.listen({ host: settings.host, port: settings.port });
    io.stderr.write(
      `gbcms serve: listening on ${address} (data ${store.dataDir}, database ${where}, backend ${backend.name}` +
        `${queueUrl === undefined ? '' : `, queue ${describeRedisUrl(queueUrl)}`})\n`,
    );
    if (members) {
      await startMembers(
        members,
        settings,
        address,
        (server) => manager.takeOverFrom(server),
        (server) => runners.keepLeasesOf(server),
        logger,
      );
    }
    hooks.onListening?.(address);
    // After recover(): a tick missed while no server ran fires once now, behind what was pending.
    stopSchedules = scheduler.start();
    // Pushes made while no server listened may have changed the files' schedules.
    startupSync = manager.fileSchedules
      .syncAll()
      .catch((error: unknown) => logger.error({ err: error }, 'file schedules'));
  } catch (error) {
    io.stderr.write(`gbcms serve: could not start: ${(error as Error).message}\n`);
    stopRetention?.();
    stopLeftoverSweep?.();
    await runners.close();
    await app?.close();
    await manager.drain(0);
    statuses.close();
    await store.close();
    return 1;
  }

  const signal = await stopSignal(hooks.signal);
  logger.info({ signal, graceMs: settings.graceMs }, 'shutting down: letting running executions finish');
  io.stderr.write(
    `gbcms serve: ${signal}: finishing running executions (up to ${settings.graceMs / 1000} s)\n`,
  );
  stopRetention?.();
  stopLeftoverSweep?.();
  await stopSchedules?.();
  manager.fileSchedules.stop();
  // A second signal means "now": executions are stopped and queued statuses no longer awaited.
  const impatient = new AbortController();
  const hurry = () => {
    impatient.abort();
    void manager.drain(0);
  };
  process.once('SIGINT', hurry);
  process.once('SIGTERM', hurry);
  try {
    await manager.drain(settings.graceMs);
    // Gone from the list, the peers take up what it leaves pending at once.
    await members?.stop();
    // Claims waiting for work answer now, rather than holding the close for their long poll.
    await runners.close();
    await app.close();
    // Reports taken by requests that were still being answered while the app closed are
    // stored before the store goes: a reporter that got 202 must not lose them.
    await manager.external.stop();
    // The executions' last states were only queued: without this wait a pull request would
    // keep `pending` for ever. Bounded, since a forge that does not answer must not hold the exit.
    if (!(await settled(statuses.idle(), STATUS_FLUSH_MS, impatient.signal))) {
      logger.warn({ waitedMs: STATUS_FLUSH_MS }, 'shutting down: forge statuses still unsent were dropped');
    }
  } finally {
    statuses.close();
    process.off('SIGINT', hurry);
    process.off('SIGTERM', hurry);
    // At most the project it was reading when the signal came.
    await startupSync;
    await store.close();
  }
  logger.info('stopped');
  return 0;
}

/** True when `work` settled within `ms`, and before `signal` aborted. */
async function settled(work: Promise<unknown>, ms: number, signal: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    onAbort = () => resolve(false);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Resolves with the name of the first of SIGTERM, SIGINT or the abort of `signal`. */
function stopSignal(signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve) => {
    const done = (name: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      signal?.removeEventListener('abort', onAbort);
      resolve(name);
    };
    const onTerm = () => done('SIGTERM');
    const onInt = () => done('SIGINT');
    const onAbort = () => done('stop requested');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    if (signal?.aborted) done('stop requested');
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
