// Which database a Kysely instance talks to, for the few places SQLite and PostgreSQL need
// different SQL (full-text search). Read from the dialect's adapter: no setting to keep in sync.
import { type Kysely, PostgresAdapter } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';

export function dialectOf<DB>(db: Kysely<DB>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}
