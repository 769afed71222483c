// The store's SQLite file opened directly, on a connection of the test's own: for tests that
// check what is really on disk (a hash rather than a token, a cascade, the schema) rather than
// what the store's methods answer.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../../../server/store/index.ts';

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
