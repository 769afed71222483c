// Opening the store: one SQLite file in the data directory, or a PostgreSQL database, migrated
// on open, with one repository per entity on top.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { sql } from 'kysely';
import { type ArtifactRepo, artifactRepo } from './artifacts.ts';
import { type CacheRepo, cacheRepo } from './caches.ts';
import { connect } from './connection.ts';
import type { RepoContext } from './context.ts';
import { type DeliveryRepo, deliveryRepo } from './deliveries.ts';
import { type EnvironmentRepo, environmentRepo } from './environments.ts';
import { type ExecutionRepo, executionRepo } from './executions.ts';
import { type ForgeRepo, forgeRepo } from './forges.ts';
import { type LogSearchRepo, logSearchRepo } from './log-search.ts';
import { migrateToLatest } from './migrations/index.ts';
import { type ProjectRepo, projectRepo } from './projects.ts';
import { type ReportRepo, reportRepo } from './reports.ts';
import { type RunnerRepo, runnerRepo } from './runners.ts';
import { type ScheduleRepo, scheduleRepo } from './schedules.ts';
import { type SecretRepo, secretRepo } from './secrets.ts';
import { type ServerRepo, serverRepo } from './servers.ts';
import { type SessionKeyRepo, sessionKeyRepo } from './session-keys.ts';
import { type SessionRepo, sessionRepo } from './sessions.ts';
import { type SlotRepo, slotRepo } from './slots.ts';
import { type StatusSettingsRepo, statusSettingsRepo } from './status-settings.ts';
import { type StepRepo, stepRepo } from './steps.ts';
import { type TokenRepo, tokenRepo } from './tokens.ts';
import { type UserRepo, userRepo } from './users.ts';

export interface StoreOptions {
  /** The clock every timestamp comes from; tests pass their own. */
  now?: () => Date;
  /**
   * A postgres:// URL: the database lives there instead of `<dataDir>/gbcms.sqlite`. Logs and
   * artifacts stay in the data directory either way.
   */
  database?: string;
}

// The database itself stays in here: every query is a repository method, so the rest of the
// server never depends on the query builder or on SQL.
export interface Store {
  /** Absolute path; executions' logs_dir values are relative to it. */
  readonly dataDir: string;
  /** Names of the migrations this open applied; empty when the schema was already current. */
  readonly migrated: readonly string[];
  readonly users: UserRepo;
  readonly tokens: TokenRepo;
  readonly projects: ProjectRepo;
  readonly executions: ExecutionRepo;
  readonly steps: StepRepo;
  readonly environments: EnvironmentRepo;
  readonly artifacts: ArtifactRepo;
  readonly deliveries: DeliveryRepo;
  readonly sessions: SessionRepo;
  /** Capabilities to create executions in one session and report to them. */
  readonly sessionKeys: SessionKeyRepo;
  readonly reports: ReportRepo;
  /** Where executions report their status back to (forge statuses). */
  readonly forges: ForgeRepo;
  readonly secrets: SecretRepo;
  readonly schedules: ScheduleRepo;
  /** Per-project commit-status settings (per-step statuses, the git hook's forge). */
  readonly statusSettings: StatusSettingsRepo;
  /** When each project's caches were last used, for the cache sweep. */
  readonly caches: CacheRepo;
  /** Full-text search over the executions' (masked) logs. */
  readonly logSearch: LogSearchRepo;
  /** Machines that claim executions over HTTP (server/runners/). */
  readonly runners: RunnerRepo;
  /** The `gbcms serve` processes sharing the database, and which executions each manages. */
  readonly servers: ServerRepo;
  /** Cluster-wide execution slots: the running limits held across servers (slots.ts). */
  readonly slots: SlotRepo;
  /** Resolves when the database answers a query (for health checks). */
  ping(): Promise<void>;
  /** Closes the database. Safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Opens (creating it if needed) `<dataDir>/gbcms.sqlite`, or the PostgreSQL database of
 * `options.database`, and migrates it to the latest schema. Several processes may open the same
 * database: SQLite serialises their writes, PostgreSQL's row locks and constraints keep the
 * counters and claims in the repositories right (see reports.ts, executions.ts).
 */
export async function openStore(dataDir: string, options: StoreOptions = {}): Promise<Store> {
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true });
  const db = connect(dir, options.database);

  let migrated: string[];
  try {
    migrated = await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }

  const clock = options.now ?? (() => new Date());
  const context: RepoContext = { db, now: () => clock().toISOString() };
  let closed: Promise<void> | undefined;
  return {
    dataDir: dir,
    migrated,
    users: userRepo(context),
    tokens: tokenRepo(context),
    projects: projectRepo(context),
    executions: executionRepo(context),
    steps: stepRepo(context),
    environments: environmentRepo(context),
    artifacts: artifactRepo(context),
    deliveries: deliveryRepo(context),
    sessions: sessionRepo(context),
    sessionKeys: sessionKeyRepo(context),
    reports: reportRepo(context),
    forges: forgeRepo(context),
    secrets: secretRepo(context),
    schedules: scheduleRepo(context),
    statusSettings: statusSettingsRepo(context),
    caches: cacheRepo(context),
    logSearch: logSearchRepo(context),
    runners: runnerRepo(context),
    servers: serverRepo(context),
    slots: slotRepo(context),
    async ping() {
      await sql`select 1`.execute(db);
    },
    close() {
      closed ??= db.destroy();
      return closed;
    },
  };
}
