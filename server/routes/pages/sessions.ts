// `/sessions/:id`: a session's executions and their metrics overlaid. Visible to whoever may
// read the session's project; a session nobody may see is a 404 like one that does not exist.
// Writers also see its keys and make new ones (POST /sessions/:id/keys answers the page with
// the new key, shown once); the owner and admins revoke them. Form posts: cookie, same origin.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type ProjectAccess, projectAccess } from '../../auth/access.ts';
import { errors } from '../../errors.ts';
import { sessionPage } from '../../pages/session-page.ts';
import type { Session } from '../../store/index.ts';
import { requireActor, requireWrite } from '../access.ts';
import { createSessionKey, revokeSessionKey } from '../api/session-keys.ts';
import { links } from '../links.ts';
import { idParams } from '../params.ts';

const HTML = 'text/html; charset=utf-8';

const sessionPageRoutes: FastifyPluginAsync = async (app) => {
  const urls = links('');

  async function readSession(request: FastifyRequest, id: string) {
    const session = await app.store.sessions.get(id);
    if (!session) throw errors.notFound('session not found');
    const access = await projectAccess(app.store.projects, request.actor, session.project_id);
    if (!access) throw errors.notFound('session not found');
    return { session, access };
  }

  async function answer(
    request: FastifyRequest,
    reply: FastifyReply,
    session: Session,
    access: ProjectAccess,
    newKey?: string,
  ) {
    const executions = await app.store.sessions.executions(session.id);
    const perExecution = await Promise.all(
      executions.map((execution) => app.store.reports.metricNames(execution.id)),
    );
    const names = new Set(perExecution.flat().map((metric) => metric.name));
    const keys = access.write
      ? {
          sessionId: session.id,
          keys: await app.store.sessionKeys.list(session.id),
          canRevoke: access.manage,
          serverUrl: app.settings.publicUrl || `${request.protocol}://${request.host}`,
          ...(newKey !== undefined ? { newKey } : {}),
        }
      : undefined;
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
      ...(keys ? { keys } : {}),
    });
    // The page may carry a new key: keep it out of every cache.
    return reply.type(HTML).header('cache-control', 'no-store').send(body.value);
  }

  app.get<{ Params: { id: string } }>(
    '/sessions/:id',
    {
      config: { html: true },
      schema: { hide: true, params: idParams, response: { 200: { type: 'string' } } },
    },
    async (request, reply) => {
      const { session, access } = await readSession(request, request.params.id);
      return answer(request, reply, session, access);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/sessions/:id/keys',
    { config: { html: true, auth: 'form' }, schema: { hide: true, params: idParams } },
    async (request, reply) => {
      requireActor(request);
      const { session, access } = await readSession(request, request.params.id);
      requireWrite(access);
      const made = await createSessionKey(request, session);
      return answer(request, reply, session, access, made.key);
    },
  );

  app.post<{ Params: { id: string; key: string } }>(
    '/sessions/:id/keys/:key/revoke',
    {
      config: { html: true, auth: 'form' },
      schema: {
        hide: true,
        params: {
          type: 'object',
          required: ['id', 'key'],
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 64 },
            key: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
      },
    },
    async (request, reply) => {
      requireActor(request);
      const { session, access } = await readSession(request, request.params.id);
      if (!access.manage) throw errors.forbidden('only the project owner and admins may revoke keys');
      await revokeSessionKey(request, session, request.params.key);
      return reply.redirect(`/sessions/${encodeURIComponent(session.id)}`, 303);
    },
  );
};

export default sessionPageRoutes;
