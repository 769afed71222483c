// Column types that differ between SQLite and PostgreSQL, for migrations. Each returns what
// SQLite has always been given, so databases migrated before PostgreSQL support keep the same
// schema, and PostgreSQL's equivalent otherwise. The rules they serve are in ./index.ts.
import type { ColumnDataType, ColumnDefinitionBuilderCallback, Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

export { isPostgres };

/** A 64-bit float: SQLite's `real` is 8 bytes, PostgreSQL's only 4 (a metric would lose digits). */
export function floatType(db: Kysely<unknown>): ColumnDataType {
  return isPostgres(db) ? 'double precision' : 'real';
}

/** Raw bytes (nonces, ciphertexts): PostgreSQL has no `blob`. Values are Buffers on both. */
export function binaryType(db: Kysely<unknown>): ColumnDataType {
  return isPostgres(db) ? 'bytea' : 'blob';
}

/**
 * An integer primary key the database numbers (1, 2, 3...), as `addColumn('id', ...idColumn(db))`:
 * AUTOINCREMENT on SQLite (never reuses a deleted row's number), an identity on PostgreSQL.
 * Prefer text ids from newId() (server/store/context.ts) unless rows need an order of insertion.
 */
export function idColumn(db: Kysely<unknown>): [ColumnDataType, ColumnDefinitionBuilderCallback] {
  return isPostgres(db)
    ? ['bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity()]
    : ['integer', (c) => c.primaryKey().autoIncrement()];
}
