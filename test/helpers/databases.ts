// Store tests run once per database the server supports: `forEachDatabase` wraps a test file's
// body in a describe() per dialect and hands it a way to open stores on that dialect. A store
// is named by its data directory, as in production: opening the same directory again opens the
// same database (a fresh PostgreSQL database is made for each directory on its first open).
import { describe } from 'node:test';
import { type Dialect, openStore, type Store, type StoreOptions } from '../../server/store/index.ts';
import { postgresCluster } from './postgres.ts';

export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

export interface TestDatabases {
  readonly dialect: Dialect;
  /** The database URL of the store in `dataDir` (created on the first call); undefined on SQLite. */
  database(dataDir: string): Promise<string | undefined>;
  /** openStore(dataDir, options) on this dialect. */
  openStore(dataDir: string, options?: Omit<StoreOptions, 'database'>): Promise<Store>;
  /** What `gbcms serve` and the data commands are given to reach that store. */
  databaseArgs(dataDir: string): Promise<string[]>;
  /** A new empty database's URL, for helpers that make their data directory themselves. */
  fresh(): Promise<string | undefined>;
}

export function testDatabases(dialect: Dialect): TestDatabases {
  const urls = new Map<string, Promise<string>>();
  const fresh = async (): Promise<string | undefined> =>
    dialect === 'sqlite' ? undefined : (await postgresCluster()).createDatabase();
  const database = async (dataDir: string): Promise<string | undefined> => {
    if (dialect === 'sqlite') return undefined;
    let url = urls.get(dataDir);
    if (url === undefined) {
      url = fresh() as Promise<string>;
      urls.set(dataDir, url);
    }
    return url;
  };
  return {
    dialect,
    database,
    async openStore(dataDir, options = {}) {
      return openStore(dataDir, { ...options, database: await database(dataDir) });
    },
    async databaseArgs(dataDir) {
      const url = await database(dataDir);
      return url === undefined ? [] : ['--database', url];
    },
    fresh,
  };
}

/** Runs `body` once per dialect, inside describe('sqlite') and describe('postgres'). */
export function forEachDatabase(body: (databases: TestDatabases) => void): void {
  for (const dialect of DIALECTS) describe(dialect, () => body(testDatabases(dialect)));
}
