// The database under the store: the SQLite file in the data directory, or a PostgreSQL
// database named by URL. Both give the same Kysely<Database>; the repositories don't know which.
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { cachingDatabase } from './statement-cache.ts';

export const DATABASE_FILE = 'gbcms.sqlite';

/** How long a write waits for another process's write (the CLI next to a running server). */
const BUSY_TIMEOUT_MS = 5000;
/** Connections per process: requests, executions' recorders and the scheduler share them. */
const POSTGRES_POOL_SIZE = 10;
const INT8_OID = 20;

function openSqliteFile(file: string): SQLite.Database {
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

// pg returns bigint columns and count(*) as strings (they may exceed 2^53); ours are sizes,
// durations and counts, far below it, and SQLite gives numbers: so numbers here too.
const postgresTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** `databaseUrl` (postgres://...) when given, else `<dataDir>/gbcms.sqlite`. */
export function connect(dataDir: string, databaseUrl: string | undefined): Kysely<Database> {
  if (databaseUrl === undefined) {
    return new Kysely<Database>({
      dialect: new SqliteDialect({ database: cachingDatabase(openSqliteFile(join(dataDir, DATABASE_FILE))) }),
    });
  }
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: POSTGRES_POOL_SIZE,
    types: postgresTypes,
  });
  // An idle connection the server dropped (a restart, a failover) leaves the pool by itself and
  // the next query opens another; without a listener the event would crash the process.
  pool.on('error', () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** The URL without its password, for messages and logs. */
export function describeDatabase(dataDir: string, databaseUrl: string | undefined): string {
  if (databaseUrl === undefined) return join(dataDir, DATABASE_FILE);
  try {
    const url = new URL(databaseUrl);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
