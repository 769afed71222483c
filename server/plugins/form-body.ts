// application/x-www-form-urlencoded bodies, for the pages' few forms (sign in, terminate,
// re-run). Repeated fields keep their first value.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

const FORM_BODY_LIMIT = 16 * 1024;

const formBodyPlugin: FastifyPluginAsync = async (app) => {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => {
      const fields: Record<string, string> = {};
      for (const [key, value] of new URLSearchParams(String(body))) if (!(key in fields)) fields[key] = value;
      done(null, fields);
    },
  );
};

export default fp(formBodyPlugin, { name: 'gbcms-form-body', fastify: '5.x' });
