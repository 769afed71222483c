// Which database a Kysely instance talks to, for the few places where SQLite and PostgreSQL
// need different SQL (column types in migrations, row locks). Everything else is the same
// query-builder code on both.
//
// What a repository keeps in mind so that several servers may share one PostgreSQL database
// (SQLite's single writer hid all of it):
//  - no read-then-write without a guard: a counter is one `update ... returning` (execution
//    numbers), a claim one conditional update or `insert ... on conflict do nothing` checked by
//    its row count (deliveries, schedules, status setters), a number derived from a max() is
//    read after locking the parent row with forNoKeyUpdate() on PostgreSQL only (report seqs);
//  - a unique violation is isUniqueViolation() (errors.ts), not an SQLite error code;
//  - every listing has an ORDER BY down to a unique column: PostgreSQL returns rows in any order;
//  - bigint and count() come back as numbers (connection.ts); booleans are 0/1 integers.
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
