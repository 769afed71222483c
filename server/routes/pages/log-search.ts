// The log search page. An empty query shows the form alone; a bad one is a 400 like the API's.
import type { FastifyPluginAsync } from 'fastify';
import { logSearchPage } from '../../pages/log-search-page.ts';
import { matchRanges } from '../../store/index.ts';
import { readProject } from '../access.ts';
import { links } from '../links.ts';
import { type LogSearchQuerystring, logSearchQuerystring, searchProjectLogs } from '../log-search.ts';
import { idParams } from '../params.ts';

const logSearchPageRoutes: FastifyPluginAsync = async (app) => {
  // Relative: the page links within the origin it was served from.
  const urls = links('');
  app.get<{ Params: { id: string }; Querystring: LogSearchQuerystring }>(
    '/projects/:id/search',
    {
      config: { html: true },
      schema: {
        hide: true,
        params: idParams,
        querystring: logSearchQuerystring,
        response: { 200: { type: 'string' } },
      },
    },
    async (request, reply) => {
      const { q, execution } = request.query;
      const now = new Date();
      if (q === undefined || q.trim() === '') {
        const access = await readProject(request, request.params.id);
        const page = logSearchPage({ actor: request.actor, project: access.project, results: [], now });
        return reply.type('text/html; charset=utf-8').send(page.value);
      }
      const { access, query, page } = await searchProjectLogs(request, request.params.id, request.query);
      const older = new URLSearchParams({ q, ...(execution !== undefined ? { execution } : {}) });
      if (page.next_cursor !== null) older.set('cursor', page.next_cursor);
      const body = logSearchPage({
        actor: request.actor,
        project: access.project,
        q,
        ...(execution !== undefined ? { execution } : {}),
        results: page.items.map((match) => ({
          ...match,
          highlights: matchRanges(match.text, query),
          url: urls.logLine(match.execution_id, match.step, match.line),
        })),
        ...(page.next_cursor !== null
          ? { olderUrl: `${urls.projectPage(access.project.id)}/search?${older}` }
          : {}),
        now,
      });
      return reply.type('text/html; charset=utf-8').send(body.value);
    },
  );
};

export default logSearchPageRoutes;
