// The execution manager as routes see it: `app.executions` (start, terminate, subscribe, stats).
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { ExecutionControl } from '../executions/types.ts';

declare module 'fastify' {
  interface FastifyInstance {
    executions: ExecutionControl;
  }
}

const executionsPlugin: FastifyPluginAsync<{ executions: ExecutionControl }> = async (
  app,
  { executions },
) => {
  app.decorate('executions', executions);
};

export default fp(executionsPlugin, { name: 'gbcms-executions', fastify: '5.x' });
