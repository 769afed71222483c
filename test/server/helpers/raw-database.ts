// The store's database opened directly, on a connection of the test's own: for tests that
// check what is really stored (a hash rather than a token, a cascade, the schema) rather than
// what the store's methods answer.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DATABASE_FILE, type DataLocation } from '../../../server/store/index.ts';

export type RawDatabase = Database.Database;

export function withRawDatabase<T>(dataDir: string, use: (db: RawDatabase) => T): T {
  const db = new Database(join(dataDir, DATABASE_FILE));
  try {
    // Per connection in SQLite: cascades only happen where foreign keys are on.
    db.pragma('foreign_keys = ON');
    return use(db);
  } finally {
    db.close();
  }
}

/**
 * One statement on either database; `?` placeholders (numbered for PostgreSQL here). The rows
 * it returns, none for a statement that returns none.
 */
export async function rawQuery<Row = Record<string, unknown>>(
  location: DataLocation,
  text: string,
  params: readonly unknown[] = [],
): Promise<Row[]> {
  if (location.database === undefined) {
    return withRawDatabase(location.dataDir, (db) => {
      const statement = db.prepare(text);
      if (statement.reader) return statement.all(...params) as Row[];
      statement.run(...params);
      return [];
    });
  }
  const client = new pg.Client({ connectionString: location.database });
  await client.connect();
  try {
    let n = 0;
    const numbered = text.replace(/\?/g, () => `$${++n}`);
    return (await client.query(numbered, [...params])).rows as Row[];
  } finally {
    await client.end();
  }
}
