// The runner hub as routes see it: `app.runners` (claims, heartbeats, events, listings).
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { RunnerHub } from '../runners/hub.ts';

declare module 'fastify' {
  interface FastifyInstance {
    runners: RunnerHub;
  }
}

const runnersPlugin: FastifyPluginAsync<{ hub: RunnerHub }> = async (app, { hub }) => {
  app.decorate('runners', hub);
};

export default fp(runnersPlugin, { name: 'gbcms-runners', fastify: '5.x' });
