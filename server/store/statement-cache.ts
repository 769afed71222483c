// Kysely's SQLite driver prepares every query afresh; preparing costs more than running most of
// the small lookups a request makes (an execution, its project, its steps). This gives the
// dialect a database whose `prepare` keeps the statements of recent SQL texts and hands them
// out again. The texts are the compiled queries with `?` placeholders, so a few hundred
// cover every query gbcms makes, whatever the values.
import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept; the least recently used goes first. */
export const STATEMENT_CACHE_SIZE = 500;
/** Longer texts (multi-row inserts of a big batch) are prepared each time and not kept. */
const MAX_CACHED_SQL_CHARS = 8192;

export function cachingDatabase(database: SQLite.Database, size = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      const cached = statements.get(sql);
      // A statement still iterating (a streamed query) cannot run again until it is done.
      if (cached !== undefined && !cached.busy) {
        statements.delete(sql);
        statements.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      if (sql.length <= MAX_CACHED_SQL_CHARS && cached === undefined) {
        statements.set(sql, statement);
        if (statements.size > size) statements.delete(statements.keys().next().value as string);
      }
      return statement;
    },
  };
}
