// What every repository is built from: the database and the store's clock.
import type { Kysely } from 'kysely';
import { urlSafeId } from '../../engine/run-id.ts';
import type { Database } from './schema.ts';

export interface RepoContext {
  db: Kysely<Database>;
  /** The current time as an ISO-8601 string; tests pass a clock they control. */
  now(): string;
}

/**
 * 72 random bits, URL-safe (12 characters): short enough for URLs, too many to guess. Never
 * starting with '-', which a command line would take for an option (`gbcms schedule rm ID`).
 */
export function newId(): string {
  return urlSafeId(9);
}
