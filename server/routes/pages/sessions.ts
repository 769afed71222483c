// `/sessions/:id`: a session's executions and their metrics overlaid. Visible to whoever may
// read the session's project; a session nobody may see is a 404 like one that does not exist.
import type { FastifyPluginAsync } from 'fastify';
import { projectAccess } from '../../auth/access.ts';
import { errors } from '../../errors.ts';
import { sessionPage } from '../../pages/session-page.ts';
import { links } from '../links.ts';

const HTML = 'text/html; charset=utf-8';

const sessionPageRoutes: FastifyPluginAsync = async (app) => {
  const urls = links('');

  app.get<{ Params: { id: string } }>(
    '/sessions/:id',
    {
      config: { html: true },
      schema: {
        hide: true,
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: { 200: { type: 'string' } },
      },
    },
    async (request, reply) => {
      const session = await app.store.sessions.get(request.params.id);
      if (!session) throw errors.notFound('session not found');
      const access = await projectAccess(app.store.projects, request.actor, session.project_id);
      if (!access) throw errors.notFound('session not found');
      const executions = await app.store.sessions.executions(session.id);
      const perExecution = await Promise.all(
        executions.map((execution) => app.store.reports.metricNames(execution.id)),
      );
      const names = new Set(perExecution.flat().map((metric) => metric.name));
      const body = sessionPage({
        actor: request.actor,
        project: access.project,
        session,
        executions,
        metrics: [...names].sort(),
        urls: {
          execution: urls.execution,
          reports: (id) => `${urls.execution(id)}/reports`,
        },
        now: new Date(),
      });
      return reply.type(HTML).send(body.value);
    },
  );
};

export default sessionPageRoutes;
