// `gbcms serve`'s command line: its help, its options and the settings read from them, each
// checked with a usage error that names the option. serve.ts runs the server they describe.
import type { parseArgs } from 'node:util';
import type { BackendChoice } from '../../engine/backends/registry.ts';
import { parseDuration, parseSize } from '../../engine/config/units.ts';
import { DEFAULT_CACHE_BUDGET_BYTES } from '../executions/cache-sweep.ts';
import type { ForgeUrls } from '../forges/index.ts';
import { ACCESS_LOG_MODES, type AccessLogMode, DEFAULT_ACCESS_LOG } from '../plugins/logger.ts';
import { LEASE_MS, MIN_LEASE_MS } from '../runners/protocol.ts';
import { describeRedisUrl, isRedisUrl } from '../runners/queue-url.ts';
import type { DispatchMode } from '../runners/remote-dispatch.ts';
import { isPostgresUrl } from '../store/index.ts';
import { parseTrustedProxies, type TrustedProxies } from '../trust-proxy.ts';
import { LOG_FORMATS, type LogFormatOption } from './log-output.ts';

export const HELP = `usage: gbcms serve [options]

options:
  --host H            address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --port P            port (default 8080; 0 picks a free one)
  --data DIR          data directory (default: $GBCMS_DATA, else ./.gbcms-data): logs, artifacts,
                      the secret key, and the SQLite database unless --database is given
  --database URL      keep the database in PostgreSQL: postgres://user:password@host:5432/gbcms
                      (default: $GBCMS_DATABASE_URL, else gbcms.sqlite in the data directory)
  --retention D       delete finished executions older than D: 14d, 36h, 90m (default 14d; 0 keeps all)
  --cache-budget S    bytes each project's caches may hold together: 5GiB, 500MiB (default 5GiB);
                      the least recently used go first, in the retention sweep
  --backend B         docker, local or auto (default auto: Docker when an engine answers)
  --leftover-sweep D  how often to retry removing what ended executions left on the backend when
                      their cleanup could not reach it (a Docker daemon restart): 5m, 30s (default 5m)
  --max-running N     executions running at once over all projects (default: the number of cores)
  --dispatch D        local (default): this server runs executions itself, except those whose
                      steps name runs_on labels, which wait for a runner (gbcms runner);
                      runners: every execution goes to a runner
  --runner-lease D    how long a runner's hold on an execution lasts without a heartbeat (one
                      every 2.5s): a runner silent this long is lost and its execution ends
                      error; one cut off from the server keeps working this long (default 8s,
                      at least 7.5s)
  --queue URL         keep the work waiting for runners in Redis, through BullMQ:
                      redis://host:6379, redis://host:6379/2 (a database number),
                      redis://:password@host:6379 (default: $GBCMS_QUEUE_URL, else in the
                      server's memory); what waits survives a restart of the server or of Redis
                      (with Redis's appendonly yes)
  --server-name N     this server's name among several sharing one PostgreSQL database
                      (default: the host name and port, host:8080, or host:pid123 with
                      --port 0); each must have its own
  --advertise-url URL where the other servers reach this one, for calls about executions it
                      manages (default http://<host>:<port>, the host name when --host is 0.0.0.0)
  --grace D           on shutdown, how long running executions may finish (default 30s)
  --public-url URL    where clients reach the server, for the URLs in answers (https://ci.example.com)
  --github-api-url U  GitHub's API, for commit statuses (default https://api.github.com;
                      GitHub Enterprise: https://<host>/api/v3)
  --gitea-url U       Gitea/Forgejo site commit statuses go to (none by default)
  --gitlab-url U      GitLab site commit statuses go to (none by default)
  --rate-limit N      requests per minute per client address (default 600)
  --trust-proxy P     behind reverse proxies: P is how many stand in front (1) or their addresses
                      (127.0.0.1,10.0.0.0/8); the client address and protocol are then taken from
                      X-Forwarded-* as those proxies wrote it (default: X-Forwarded-* is ignored)
  --log-level L       fatal, error, warn, info, debug or trace (default info)
  --log-format F      pretty, json or auto (default auto: readable lines when stdout is a
                      terminal, JSON lines otherwise); the log goes to stdout
  --access-log M      which requests get an access-log line: all, writes (default: every request
                      but GET, HEAD and OPTIONS, and every failed one), errors (failed ones) or off
  -h, --help          this text

Commit statuses need a forge token: the project's (or a global) secret GITHUB_TOKEN,
GITEA_TOKEN or GITLAB_TOKEN, else GBCMS_GITHUB_TOKEN, GBCMS_GITEA_TOKEN or GBCMS_GITLAB_TOKEN
in the server's environment.

Pages read private projects with the API token saved by /login (an HttpOnly cookie);
the API takes it as 'Authorization: Bearer <token>' (see 'gbcms token create').

On SIGTERM, once executions are done, the forge statuses still queued get up to 30 s to go
out; a second signal stops at once.

exit: 0 stopped by a signal, 1 failed to start, 2 invalid usage
`;

export const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  data: { type: 'string' },
  database: { type: 'string' },
  retention: { type: 'string' },
  'cache-budget': { type: 'string' },
  backend: { type: 'string' },
  'leftover-sweep': { type: 'string' },
  'max-running': { type: 'string' },
  dispatch: { type: 'string' },
  queue: { type: 'string' },
  grace: { type: 'string' },
  'server-name': { type: 'string' },
  'advertise-url': { type: 'string' },
  'runner-lease': { type: 'string' },
  'public-url': { type: 'string' },
  'github-api-url': { type: 'string' },
  'gitea-url': { type: 'string' },
  'gitlab-url': { type: 'string' },
  'rate-limit': { type: 'string' },
  'trust-proxy': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'access-log': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const BACKENDS: readonly BackendChoice[] = ['docker', 'local', 'auto'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];
const DEFAULT_RETENTION_MS = 14 * 24 * 3600 * 1000;
export const MAX_SWEEP_INTERVAL_MS = 3600 * 1000;
const DEFAULT_LEFTOVER_SWEEP_MS = 5 * 60 * 1000;

export interface ServeSettings {
  host: string;
  port: number;
  data: string | undefined;
  /** A postgres:// URL, from --database only: $GBCMS_DATABASE_URL is read when serving. */
  database: string | undefined;
  retentionMs: number;
  /** Bytes each project's caches may hold together. */
  cacheBudgetBytes: number;
  backend: BackendChoice;
  leftoverSweepMs: number;
  maxRunning: number | undefined;
  dispatch: DispatchMode;
  /** How long a runner's lease lasts without a heartbeat. */
  runnerLeaseMs: number;
  /** A redis:// URL, from --queue only: $GBCMS_QUEUE_URL is read when serving. */
  queue: string | undefined;
  graceMs: number;
  publicUrl: string | undefined;
  /** --server-name; undefined: host:port, known once listening. */
  serverName: string | undefined;
  /** --advertise-url; undefined: from the address listened on. */
  advertiseUrl: string | undefined;
  forgeUrls: ForgeUrls;
  rateLimit: number;
  trustProxy: TrustedProxies;
  logLevel: string;
  logFormat: LogFormatOption;
  accessLog: AccessLogMode;
}

export class UsageError extends Error {}

function isLogFormat(value: string): value is LogFormatOption {
  return (LOG_FORMATS as readonly string[]).includes(value);
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export function readSettings(values: Values): ServeSettings {
  const backend = values.backend ?? 'auto';
  if (!BACKENDS.includes(backend as BackendChoice)) {
    throw new UsageError(`--backend must be ${BACKENDS.join(', ')}, not '${backend}'`);
  }
  const dispatch = values.dispatch ?? 'local';
  if (dispatch !== 'local' && dispatch !== 'runners') {
    throw new UsageError(`--dispatch must be local or runners, not '${dispatch}'`);
  }
  const logLevel = values['log-level'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const logFormat = values['log-format'] ?? 'auto';
  if (!isLogFormat(logFormat))
    throw new UsageError(`--log-format must be one of ${LOG_FORMATS.join(', ')}, not '${logFormat}'`);
  const accessLog = values['access-log'] ?? DEFAULT_ACCESS_LOG;
  if (!(ACCESS_LOG_MODES as readonly string[]).includes(accessLog))
    throw new UsageError(`--access-log must be one of ${ACCESS_LOG_MODES.join(', ')}`);
  const publicUrl = httpUrl(values['public-url'], '--public-url');
  const forgeUrls: ForgeUrls = {};
  for (const [option, key] of [
    ['github-api-url', 'githubApi'],
    ['gitea-url', 'gitea'],
    ['gitlab-url', 'gitlab'],
  ] as const) {
    const url = httpUrl(values[option], `--${option}`);
    if (url !== undefined) forgeUrls[key] = url;
  }
  return {
    host: values.host ?? '127.0.0.1',
    port: integer(values.port ?? '8080', '--port', 0, 65535),
    data: values.data,
    database: databaseUrl(values.database),
    retentionMs: values.retention === undefined ? DEFAULT_RETENTION_MS : retention(values.retention),
    cacheBudgetBytes:
      values['cache-budget'] === undefined ? DEFAULT_CACHE_BUDGET_BYTES : cacheBudget(values['cache-budget']),
    backend: backend as BackendChoice,
    leftoverSweepMs:
      values['leftover-sweep'] === undefined
        ? DEFAULT_LEFTOVER_SWEEP_MS
        : positiveDuration(values['leftover-sweep'], '--leftover-sweep'),
    maxRunning:
      values['max-running'] === undefined
        ? undefined
        : integer(values['max-running'], '--max-running', 1, 1000),
    dispatch,
    runnerLeaseMs: values['runner-lease'] === undefined ? LEASE_MS : runnerLease(values['runner-lease']),
    queue: queueUrl(values.queue),
    graceMs: values.grace === undefined ? 30_000 : duration(values.grace, '--grace'),
    publicUrl,
    serverName: serverName(values['server-name']),
    advertiseUrl: httpUrl(values['advertise-url'], '--advertise-url'),
    forgeUrls,
    rateLimit: integer(values['rate-limit'] ?? '600', '--rate-limit', 1, 1_000_000),
    trustProxy: values['trust-proxy'] === undefined ? false : trustedProxies(values['trust-proxy']),
    logLevel,
    logFormat,
    accessLog: accessLog as AccessLogMode,
  };
}

function httpUrl(text: string | undefined, option: string): string | undefined {
  if (text !== undefined && !/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(text)) {
    throw new UsageError(`${option} must be an http:// or https:// URL without query or fragment`);
  }
  return text;
}

function databaseUrl(text: string | undefined): string | undefined {
  if (text !== undefined && !isPostgresUrl(text)) {
    throw new UsageError(`--database must be a postgres:// URL, not '${text}'`);
  }
  return text;
}

function queueUrl(text: string | undefined): string | undefined {
  if (text !== undefined && !isRedisUrl(text)) {
    throw new UsageError(
      `--queue must be a redis:// URL (redis://host:6379[/db]), not '${describeRedisUrl(text)}'`,
    );
  }
  return text;
}

function trustedProxies(text: string): TrustedProxies {
  try {
    return parseTrustedProxies(text);
  } catch (error) {
    throw new UsageError(`--trust-proxy: ${(error as Error).message}`);
  }
}

function integer(text: string, option: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${option} must be a whole number from ${min} to ${max}, not '${text}'`);
  }
  return Number(text);
}

/** `14d`, `1d12h`, `36h`, `90m`; `0` keeps everything (returns 0). */
export function retention(text: string): number {
  if (text === '0') return 0;
  const days = /^(\d+)d(.*)$/.exec(text);
  const dayMs = days ? Number(days[1]) * 24 * 3600 * 1000 : 0;
  const rest = days ? (days[2] ?? '') : text;
  const restMs = rest === '' ? 0 : parseDuration(rest);
  if (restMs === undefined || dayMs + restMs <= 0) {
    throw new UsageError(`--retention must be a duration like 14d, 36h or 90m (or 0), not '${text}'`);
  }
  return dayMs + restMs;
}

function cacheBudget(text: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined)
    throw new UsageError(`--cache-budget must be a size like 5GiB or 500MiB, not '${text}'`);
  return bytes;
}

function duration(text: string, option: string): number {
  if (text === '0') return 0;
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${option} must be a duration like 30s or 2m, not '${text}'`);
  return ms;
}

function serverName(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(text)) {
    throw new UsageError(
      `--server-name must be letters, digits, '.', '_', ':' or '-' (at most 100), not '${text}'`,
    );
  }
  return text;
}

function runnerLease(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < MIN_LEASE_MS || ms > 3_600_000) {
    throw new UsageError(
      `--runner-lease must be a duration from ${MIN_LEASE_MS / 1000}s to 1h (three heartbeats at least), not '${text}'`,
    );
  }
  return ms;
}

function positiveDuration(text: string, option: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${option} must be a duration like 30s or 5m, not '${text}'`);
  return ms;
}
