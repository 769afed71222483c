// Migrations listed in code rather than read from a folder: they are bundled with the sources,
// and tsx needs no file-system tricks to load them. Add each new file here, in order.
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
import * as runners from './013-runners.ts';

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
  '013-runners': runners,
};

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
