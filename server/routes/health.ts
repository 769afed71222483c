// GET /healthz: the process answers and its database does; says which gbcms answers, so an
// upgrade or a rollback can be checked from outside.
import type { FastifyPluginAsync } from 'fastify';
import { packageVersion } from '../../engine/package-info.ts';

const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness and database check',
        tags: ['operations'],
        response: {
          200: {
            type: 'object',
            required: ['status', 'version'],
            properties: { status: { type: 'string', enum: ['ok'] }, version: { type: 'string' } },
          },
        },
      },
    },
    async () => {
      await app.store.ping();
      return { status: 'ok', version: packageVersion() };
    },
  );
};

export default healthRoutes;
