// GET /api/projects/:id/logs/search: lines of a project's logs (or one execution's) that hold
// every word and phrase asked for, newest first, each with where to see it.
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../../plugins/schemas.ts';
import { matchRanges } from '../../store/index.ts';
import { links } from '../links.ts';
import { type LogSearchQuerystring, logSearchQuerystring, searchProjectLogs } from '../log-search.ts';
import { idParams } from '../params.ts';

const logSearchRoutes: FastifyPluginAsync = async (app) => {
  const urls = links(app.settings.publicUrl);
  app.get<{ Params: { id: string }; Querystring: LogSearchQuerystring }>(
    '/api/projects/:id/logs/search',
    {
      schema: {
        summary: "Search a project's logs",
        description:
          'Secrets are masked before lines are indexed, so a value is never found. Lines of executions the retention sweep removed are gone too.',
        tags: ['projects', 'executions'],
        params: idParams,
        querystring: logSearchQuerystring,
        response: {
          200: {
            type: 'object',
            required: ['items', 'next_cursor'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['execution_id', 'execution_number', 'step', 'line', 'text', 'highlights', 'url'],
                  properties: {
                    execution_id: { type: 'string' },
                    execution_number: { type: 'integer' },
                    step: { type: 'string' },
                    line: { type: 'integer', description: '1-based, as the step log numbers it' },
                    text: { type: 'string', description: 'the line, masked' },
                    highlights: {
                      type: 'array',
                      description: '[start, end) character ranges of the matches in text',
                      items: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2 },
                    },
                    url: { type: 'string', description: 'the line on the run page' },
                  },
                },
              },
              next_cursor: { type: ['string', 'null'], description: 'pass as ?cursor= for older matches' },
            },
          },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request) => {
      const { query, page } = await searchProjectLogs(request, request.params.id, request.query);
      return {
        items: page.items.map((match) => ({
          execution_id: match.execution_id,
          execution_number: match.execution_number,
          step: match.step,
          line: match.line,
          text: match.text,
          highlights: matchRanges(match.text, query),
          url: urls.logLine(match.execution_id, match.step, match.line),
        })),
        next_cursor: page.next_cursor,
      };
    },
  );
};

export default logSearchRoutes;
