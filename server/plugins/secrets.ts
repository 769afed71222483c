// The secret vault routes seal values with: `app.secretVault`. Undefined when the server was
// built without a key (tests of other features); setting a secret then answers 503.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { SecretVault } from '../secrets/vault.ts';

declare module 'fastify' {
  interface FastifyInstance {
    secretVault: SecretVault | undefined;
  }
}

const secretsPlugin: FastifyPluginAsync<{ vault: SecretVault | undefined }> = async (app, { vault }) => {
  app.decorate('secretVault', vault);
};

export default fp(secretsPlugin, { name: 'gbcms-secrets', fastify: '5.x' });
