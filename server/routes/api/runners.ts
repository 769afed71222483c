// Runners over HTTP, for admins: register one (its token is in that answer only), list them
// with what the server knows of them now (connected, running executions, last seen), revoke one;
// and the Runners page, which shows the same list.
import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.ts';
import { runnersPage } from '../../pages/runners-page.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import {
  RUNNER_NAME_PATTERN,
  RunnerExistsError,
  RunnerInputError,
  registerRunner,
} from '../../runners/register.ts';
import { requireActor } from '../access.ts';

const name = { type: 'string', pattern: RUNNER_NAME_PATTERN } as const;

const runnersRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('preHandler', async (request) => {
    if (requireActor(request).role !== 'admin') throw errors.forbidden('only admins manage runners');
  });

  app.post<{ Body: { name: string; labels?: string[] } }>(
    '/api/runners',
    {
      schema: {
        summary: 'Register a runner; its token is shown only in this answer',
        tags: ['runners'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { name, labels: { type: 'array', items: name, maxItems: 100, uniqueItems: true } },
        },
        response: { ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      try {
        const { token, runner } = await registerRunner(app.store, {
          name: request.body.name,
          labels: request.body.labels ?? [],
          createdBy: actor.id,
        });
        request.log.info({ runner: runner.name, by: actor.id }, 'runner registered');
        reply.header('cache-control', 'no-store');
        return reply.code(201).send({
          token,
          name: runner.name,
          labels: runner.labels,
          prefix: runner.prefix,
          created_at: runner.created_at,
        });
      } catch (error) {
        if (error instanceof RunnerExistsError) throw errors.runnerExists(error.message);
        if (error instanceof RunnerInputError) throw errors.validation(error.message);
        throw error;
      }
    },
  );

  app.get(
    '/api/runners',
    {
      schema: {
        summary:
          'Every registered runner: labels, version, capacity, running executions, last seen, connected',
        tags: ['runners'],
        response: { ...errorResponses(401, 403) },
      },
    },
    async () => ({ items: await app.runners.list() }),
  );

  app.get('/runners', { config: { html: true }, schema: { hide: true } }, async (request, reply) => {
    const page = runnersPage({ actor: request.actor, runners: await app.runners.list(), now: new Date() });
    return reply.type('text/html; charset=utf-8').send(page.value);
  });

  app.delete<{ Params: { name: string } }>(
    '/api/runners/:name',
    {
      schema: {
        summary: "Revoke a runner's token: it takes nothing more and loses what it runs",
        tags: ['runners'],
        params: { type: 'object', required: ['name'], properties: { name } },
        response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const runner = await app.store.runners.byName(request.params.name);
      if (!runner) throw errors.runnerNotFound();
      if (await app.store.runners.revoke(runner.id)) {
        app.runners.revoked(runner.name);
        request.log.info({ runner: runner.name, by: requireActor(request).id }, 'runner revoked');
      }
      return reply.code(204).send();
    },
  );
};

export default runnersRoutes;
