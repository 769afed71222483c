// Opening the store: one SQLite file in the data directory, migrated on open, with one
// repository per entity on top.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { type ArtifactRepo, artifactRepo } from './artifacts.ts';
import { type CacheRepo, cacheRepo } from './caches.ts';
import type { RepoContext } from './context.ts';
import { type DeliveryRepo, deliveryRepo } from './deliveries.ts';
import { type EnvironmentRepo, environmentRepo } from './environments.ts';
import { type ExecutionRepo, executionRepo } from './executions.ts';
import { type ForgeRepo, forgeRepo } from './forges.ts';
import { migrateToLatest } from './migrations/index.ts';
import { type ProjectRepo, projectRepo } from './projects.ts';
import { type ReportRepo, reportRepo } from './reports.ts';
import { type ScheduleRepo, scheduleRepo } from './schedules.ts';
import type { Database } from './schema.ts';
import { type SecretRepo, secretRepo } from './secrets.ts';
import { type SessionKeyRepo, sessionKeyRepo } from './session-keys.ts';
import { type SessionRepo, sessionRepo } from './sessions.ts';
import { cachingDatabase } from './statement-cache.ts';
import { type StatusSettingsRepo, statusSettingsRepo } from './status-settings.ts';
import { type StepRepo, stepRepo } from './steps.ts';
import { type TokenRepo, tokenRepo } from './tokens.ts';
import { type UserRepo, userRepo } from './users.ts';

export const DATABASE_FILE = 'gbcms.sqlite';

/** How long a write waits for another process's write (the CLI next to a running server). */
const BUSY_TIMEOUT_MS = 5000;

export interface StoreOptions {
  /** The clock every timestamp comes from; tests pass their own. */
  now?: () => Date;
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
  /** Resolves when the database answers a query (for health checks). */
  ping(): Promise<void>;
  /** Closes the database. Safe to call more than once. */
  close(): Promise<void>;
}

function openDatabase(file: string): SQLite.Database {
  const database = new SQLite(file);
  try {
    // WAL: readers don't block the writer, so pages stay fast while an execution logs progress.
    database.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode; only power loss can lose the last commits.
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (error) {
    database.close();
    throw error;
  }
  return database;
}

/**
 * Opens (creating it if needed) `<dataDir>/gbcms.sqlite` and migrates it to the latest schema.
 * Several processes may open the same directory: SQLite serialises their writes.
 */
export async function openStore(dataDir: string, options: StoreOptions = {}): Promise<Store> {
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true });
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: cachingDatabase(openDatabase(join(dir, DATABASE_FILE))) }),
  });

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
    async ping() {
      await sql`select 1`.execute(db);
    },
    close() {
      closed ??= db.destroy();
      return closed;
    },
  };
}
