// The store every route reads and writes through: `app.store`.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Store } from '../store/index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
  }
}

const storePlugin: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.decorate('store', store);
};

export default fp(storePlugin, { name: 'gbcms-store', fastify: '5.x' });
