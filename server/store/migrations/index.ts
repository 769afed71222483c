// Migrations listed in code rather than read from a folder: they are bundled with the sources,
// and tsx needs no file-system tricks to load them. Add each new file here, in order.
//
// Every migration runs on SQLite and on PostgreSQL, unchanged. The rules that keep it so:
//  1. History is fixed: a released migration never changes what it does to SQLite (databases
//     out there already ran it). A PostgreSQL fix goes behind isPostgres(db) with SQLite's
//     branch left exactly as it was.
//  2. Column types: 'text', 'integer' (32-bit on PostgreSQL: bytes, milliseconds and other
//     values that may pass 2^31 go in 'bigint', which the store reads back as a number), and
//     from ./portable.ts floatType(db) (never 'real': 4 bytes on PostgreSQL), binaryType(db)
//     (never 'blob'), idColumn(db) for a database-numbered key (never autoIncrement() alone).
//     Timestamps are 'text' ISO-8601 UTC from the store's clock; booleans are 'integer' 0/1;
//     JSON is 'text' written with JSON.stringify. No 'boolean', 'json', 'datetime', 'timestamp'.
//  3. Defaults are literals (defaultTo(0), defaultTo('main')): no CURRENT_TIMESTAMP, no
//     functions. A column added to an existing table is nullable or has a default.
//  4. Only what SQLite's ALTER TABLE can do: add, rename or drop a column, create or drop a
//     table or index. No changed column types, no constraints added later (SQLite would need
//     the table rebuilt), no CHECK constraints.
//  5. Query-builder DDL only. Raw SQL, pragmas, SQLite-only features (FTS5 virtual tables,
//     WITHOUT ROWID, AUTOINCREMENT) and PostgreSQL-only ones (tsvector, GIN indexes, jsonb,
//     arrays, enums) only behind isPostgres(db), with a branch for each database.
//  6. Names: lower-case snake_case tables, columns, indexes and constraints; an index or
//     constraint name is unique in the whole database on both (prefix it with its table).
//  7. Text compares and sorts byte by byte on SQLite and in a PostgreSQL database created with
//     the C collation (the README's createdb line); `=` is case-sensitive on both. LIKE is
//     case-insensitive on SQLite only: repositories compare in code or lower() both sides.
//  8. A migration is one transaction on PostgreSQL but not on SQLite: keep one concern per file
//     so a failure half way leaves something a person can understand.
// test/server/store-migrations.test.ts runs all of them on both databases.
import type { Kysely, Migration, MigrationProvider, MigrationResult } from 'kysely';
import { Migrator, sql } from 'kysely';
import { packageVersion } from '../../../engine/package-info.ts';
import * as initial from './001-initial.ts';
import * as reports from './002-reports.ts';
import * as secrets from './003-secrets.ts';
import * as forgeStatus from './004-forge-status.ts';
import * as schedules from './005-schedules.ts';
import * as forkPullRequests from './006-fork-pull-requests.ts';
import * as projectStatusSettings from './007-project-status-settings.ts';
import * as cacheUses from './008-cache-uses.ts';
import * as sessionKeys from './009-session-keys.ts';
import * as stepApprovals from './010-step-approvals.ts';
import * as concurrencyFileSchedules from './011-concurrency-file-schedules.ts';
import * as logSearch from './012-log-search.ts';
import * as runners from './013-runners.ts';
import * as rerunFromFailed from './014-rerun-from-failed.ts';
import * as servers from './015-servers.ts';
import * as executionSlots from './016-execution-slots.ts';

const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-reports': reports,
  '003-secrets': secrets,
  '004-forge-status': forgeStatus,
  '005-schedules': schedules,
  '006-fork-pull-requests': forkPullRequests,
  '007-project-status-settings': projectStatusSettings,
  '008-cache-uses': cacheUses,
  '009-session-keys': sessionKeys,
  '010-step-approvals': stepApprovals,
  '011-concurrency-file-schedules': concurrencyFileSchedules,
  '012-log-search': logSearch,
  '013-runners': runners,
  '014-rerun-from-failed': rerunFromFailed,
  '015-servers': servers,
  '016-execution-slots': executionSlots,
};

export { binaryType, floatType, idColumn, isPostgres } from './portable.ts';

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly results: readonly MigrationResult[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  await refuseNewerDatabase(db);
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const what = failed ? `migration ${failed} failed` : 'migrations could not run';
    throw new MigrationError(`${what}: ${error instanceof Error ? error.message : String(error)}`, results, {
      cause: error,
    });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * A database migrated by a later gbcms (after a rollback to an older image, say) has tables
 * and columns this code does not know: writing to it could lose data, so the store refuses to
 * open it and says what to do, rather than Kysely's "corrupted migrations".
 */
async function refuseNewerDatabase<DB>(db: Kysely<DB>): Promise<void> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === 'kysely_migration')) return;
  const applied = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db);
  const unknown = applied.rows.map((r) => r.name).filter((name) => !(name in MIGRATIONS));
  if (unknown.length === 0) return;
  throw new MigrationError(
    `the database is newer than this gbcms ${packageVersion()}: it was migrated by a later version ` +
      `(migrations ${unknown.join(', ')} are unknown here). Run that version or a newer one, or ` +
      'restore the data folder backed up before the upgrade (see README, "Deploy").',
    [],
  );
}
