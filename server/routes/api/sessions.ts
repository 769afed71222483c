// Sessions: a project's named groups of external executions. Readable like their project
// (a private project's sessions are 404 to strangers).
import type { FastifyPluginAsync } from 'fastify';
import { projectAccess } from '../../auth/access.ts';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { MAX_SESSION_EXECUTIONS } from '../../store/index.ts';
import { readProject } from '../access.ts';
import { links } from '../links.ts';
import { idParams } from '../params.ts';
import { executionView } from './views.ts';

const sessionProperties = {
  id: { type: 'string' },
  name: { type: 'string' },
  project_id: { type: 'string' },
  created_at: { type: 'string', format: 'date-time' },
} as const;

const sessionsRoutes: FastifyPluginAsync = async (app) => {
  const urls = links(app.settings.publicUrl);

  app.get<{ Params: { id: string } }>(
    '/api/sessions/:id',
    {
      schema: {
        summary: 'A session with its executions, oldest first',
        description: `At most ${MAX_SESSION_EXECUTIONS} executions are listed.`,
        tags: ['sessions'],
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['id', 'name', 'project_id', 'created_at', 'executions'],
            properties: {
              ...sessionProperties,
              executions: { type: 'array', items: { $ref: 'Execution#' } },
            },
          },
          ...errorResponses(401, 404),
        },
      },
    },
    async (request) => {
      const session = await app.store.sessions.get(request.params.id);
      const readable =
        session && (await projectAccess(app.store.projects, request.actor, session.project_id)) !== undefined;
      if (!session || !readable) throw errors.notFound('session not found');
      const executions = await app.store.sessions.executions(session.id);
      return { ...session, executions: executions.map((execution) => executionView(execution, urls)) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>(
    '/api/projects/:id/sessions',
    {
      schema: {
        summary: "A project's sessions, newest first",
        tags: ['projects', 'sessions'],
        params: idParams,
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'name', 'project_id', 'created_at', 'executions', 'last_execution_at'],
                  properties: {
                    ...sessionProperties,
                    executions: { type: 'integer', description: 'how many executions it holds' },
                    last_execution_at: { type: ['string', 'null'], format: 'date-time' },
                  },
                },
              },
            },
          },
          ...errorResponses(401, 404),
        },
      },
    },
    async (request) => {
      const { project } = await readProject(request, request.params.id);
      return { items: await app.store.sessions.list(project.id, request.query.limit) };
    },
  );
};

export default sessionsRoutes;
