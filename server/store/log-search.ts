// Full-text search over the executions' logs. Lines come in batches from the server's
// recorder (masked, as the log files hold them) and go with their execution (a cascade). One
// interface, two queries: SQLite's FTS5 index, PostgreSQL's tsvector column (see migration 012).
import { type Kysely, sql } from 'kysely';
import type { RepoContext } from './context.ts';
import { dialectOf } from './dialect.ts';
import { InvalidCursorError } from './errors.ts';
import { quotedPhrases, type SearchQuery } from './log-search-query.ts';
import type { Database } from './schema.ts';

export const DEFAULT_SEARCH_PAGE = 20;
export const MAX_SEARCH_PAGE = 100;
/** Rows per INSERT: well under both databases' bound-parameter limits. */
const INSERT_CHUNK = 500;

export interface LogLineEntry {
  execution_id: string;
  project_id: string;
  step: string;
  /** 1-based, as the step's log numbers it (LogLine.seq). */
  line: number;
  text: string;
}

export interface LogSearch {
  projectId: string;
  /** Only this execution's lines. */
  executionId?: string;
  query: SearchQuery;
  /** Default 20, at most 100. */
  limit?: number;
  /** `next_cursor` of the previous page. Throws InvalidCursorError when it is not one. */
  cursor?: string;
}

export interface LogMatch {
  execution_id: string;
  execution_number: number;
  step: string;
  line: number;
  text: string;
  /** When the execution was created. */
  created_at: string;
}

export interface LogMatchPage {
  /** Newest first (the order lines were indexed). */
  items: LogMatch[];
  next_cursor: string | null;
}

export interface LogSearchRepo {
  /** Indexes lines; one transaction for the lot. */
  add(entries: readonly LogLineEntry[]): Promise<void>;
  search(search: LogSearch): Promise<LogMatchPage>;
}

interface MatchRow extends LogMatch {
  id: number | string;
}

function decodeSearchCursor(cursor: string): number {
  if (!/^[1-9]\d{0,15}$/.test(cursor)) throw new InvalidCursorError();
  return Number(cursor);
}

export function logSearchRepo({ db }: RepoContext): LogSearchRepo {
  const postgres = dialectOf(db) === 'postgres';
  return {
    async add(entries) {
      if (entries.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
          await trx
            .insertInto('log_lines')
            .values(entries.slice(i, i + INSERT_CHUNK))
            .execute();
        }
      });
    },

    async search(search) {
      const limit = Math.min(MAX_SEARCH_PAGE, Math.max(1, Math.floor(search.limit ?? DEFAULT_SEARCH_PAGE)));
      const before = search.cursor === undefined ? undefined : decodeSearchCursor(search.cursor);
      const rows = await (postgres ? searchPostgres : searchSqlite)(db, search, before, limit + 1);
      const items = rows.slice(0, limit);
      const last = rows.length > limit ? items.at(-1) : undefined;
      return {
        items: items.map(({ id: _id, ...match }) => ({
          ...match,
          line: Number(match.line),
          execution_number: Number(match.execution_number),
        })),
        next_cursor: last ? String(last.id) : null,
      };
    },
  };
}

type Search = (
  db: Kysely<Database>,
  search: LogSearch,
  before: number | undefined,
  limit: number,
) => Promise<MatchRow[]>;

const MATCH_COLUMNS = sql`l.id, l.execution_id, e.number AS execution_number, l.step, l.line, l.text, e.created_at`;

function filters(search: LogSearch, before: number | undefined) {
  return sql`l.project_id = ${search.projectId}
    ${search.executionId === undefined ? sql`` : sql`AND l.execution_id = ${search.executionId}`}
    ${before === undefined ? sql`` : sql`AND l.id < ${before}`}`;
}

// CROSS JOIN keeps FTS5 in the outer loop: it walks its matches newest first and stops at the limit.
const searchSqlite: Search = async (db, search, before, limit) => {
  const result = await sql<MatchRow>`SELECT ${MATCH_COLUMNS}
    FROM log_lines_fts f CROSS JOIN log_lines l ON l.id = f.rowid
    JOIN executions e ON e.id = l.execution_id
    WHERE log_lines_fts MATCH ${quotedPhrases(search.query)} AND ${filters(search, before)}
    ORDER BY f.rowid DESC LIMIT ${limit}`.execute(db);
  return result.rows;
};

const searchPostgres: Search = async (db, search, before, limit) => {
  const result = await sql<MatchRow>`SELECT ${MATCH_COLUMNS}
    FROM log_lines l JOIN executions e ON e.id = l.execution_id
    WHERE l.search @@ websearch_to_tsquery('simple', ${quotedPhrases(search.query)}) AND ${filters(search, before)}
    ORDER BY l.id DESC LIMIT ${limit}`.execute(db);
  return result.rows;
};
