// What the log search API and page share: who may search (the project's readers; a stranger
// learns nothing, not even that the project exists), the query read and bounded, errors as
// 400s.
import type { FastifyRequest } from 'fastify';
import type { ProjectAccess } from '../auth/access.ts';
import { errors } from '../errors.ts';
import {
  InvalidCursorError,
  type LogMatchPage,
  MAX_QUERY_CHARS,
  parseSearchQuery,
  type SearchQuery,
  SearchQueryError,
} from '../store/index.ts';
import { readProject } from './access.ts';

export interface LogSearchQuerystring {
  q?: string;
  execution?: string;
  cursor?: string;
  limit?: number;
}

/** Fastify's querystring schema; `q` is checked by parseSearchQuery, for a clearer message. */
export const logSearchQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // Longer than the query limit, so that one is what a long query hears about.
    q: {
      type: 'string',
      maxLength: MAX_QUERY_CHARS * 4,
      description: `words or "quoted phrases"; at most ${MAX_QUERY_CHARS} characters`,
    },
    execution: { type: 'string', minLength: 1, maxLength: 64, description: "only this execution's lines" },
    cursor: { type: 'string', minLength: 1, maxLength: 32 },
    limit: { type: 'integer', minimum: 1, maximum: 100 },
  },
} as const;

export interface LogSearchResult {
  access: ProjectAccess;
  query: SearchQuery;
  page: LogMatchPage;
}

export async function searchProjectLogs(
  request: FastifyRequest,
  projectId: string,
  querystring: LogSearchQuerystring,
): Promise<LogSearchResult> {
  const access = await readProject(request, projectId);
  const { store } = request.server;
  let query: SearchQuery;
  try {
    query = parseSearchQuery(querystring.q ?? '');
  } catch (error) {
    if (error instanceof SearchQueryError) throw errors.validation(error.message);
    throw error;
  }
  if (querystring.execution !== undefined) {
    const execution = await store.executions.get(querystring.execution);
    if (execution?.project_id !== access.project.id) throw errors.executionNotFound();
  }
  try {
    const page = await store.logSearch.search({
      projectId: access.project.id,
      query,
      ...(querystring.execution !== undefined ? { executionId: querystring.execution } : {}),
      ...(querystring.cursor !== undefined ? { cursor: querystring.cursor } : {}),
      ...(querystring.limit !== undefined ? { limit: querystring.limit } : {}),
    });
    return { access, query, page };
  } catch (error) {
    if (error instanceof InvalidCursorError) throw errors.invalidCursor();
    throw error;
  }
}
