// Which database a Kysely instance talks to, for the few places where SQLite and PostgreSQL
// need different SQL (column types in migrations, row locks). Everything else is the same
// query-builder code on both.
import { type Kysely, PostgresAdapter } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/**
 * True on PostgreSQL. Works on the Kysely a migration gets (a transaction on PostgreSQL) as on
 * the store's. Kysely marks getExecutor internal, but its adapter is the one place that knows
 * the dialect; the store tests run on both databases, so a change there shows at once.
 */
export function isPostgres<DB>(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export function dialectOf<DB>(db: Kysely<DB>): Dialect {
  return isPostgres(db) ? 'postgres' : 'sqlite';
}

/** A `--database` value PostgreSQL understands: a postgres:// or postgresql:// URL. */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text);
}
