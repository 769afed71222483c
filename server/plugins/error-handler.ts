// The one error handler: `{error: CODE, message}` for every failed request (an HTML page on
// page routes). Server errors are logged with their details and answered generically.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { describeError, errors, HttpError } from '../errors.ts';
import { errorPage } from '../pages/error-page.ts';

const errorHandlerPlugin: FastifyPluginAsync = async (app) => {
  app.setErrorHandler(async (error, request, reply) => {
    const { statusCode, body } = describeError(error);
    // A 503 of gbcms's own is expected (shutting down, a peer not answering): no stack for it.
    if (statusCode === 503 && error instanceof HttpError) request.log.warn(body, 'request refused for now');
    else if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ err: error }, body.message);
    reply.code(statusCode);
    if (request.routeOptions.config?.html) {
      return reply.type('text/html; charset=utf-8').send(errorPage(statusCode, body.message).value);
    }
    return reply.type('application/json; charset=utf-8').send(body);
  });

  app.setNotFoundHandler(async (request) => {
    throw errors.notFound(`no route ${request.method} ${request.url.split('?')[0]}`);
  });
};

export default fp(errorHandlerPlugin, { name: 'gbcms-errors', fastify: '5.x' });
