// Logging: pino with secrets redacted, and one access-log line per request (with its id)
// instead of fastify's two.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LogController } from 'fastify';
import type { LoggerOptions } from 'pino';

/** Whatever might hold a credential, wherever a log call could put it. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-hub-signature"]',
  'req.headers["x-gbcms-signature-256"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'token',
  'webhook_secret',
  'secret',
  '*.token',
  '*.webhook_secret',
  '*.secret',
];

/** pino options for the server: `level` as given (default info), secrets redacted. */
export function loggerOptions(options: LoggerOptions = {}): LoggerOptions {
  const redact = options.redact;
  const extra = Array.isArray(redact) ? redact : redact ? redact.paths : [];
  return {
    level: 'info',
    ...options,
    redact: { paths: [...REDACT_PATHS, ...extra], censor: '[redacted]' },
  };
}

/** One line per answered request: method, URL, route, status, time, client address. */
export class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = {
      method: request.method,
      url: request.url,
      route: request.routeOptions.url,
      statusCode: reply.statusCode,
      responseTime: Math.round(reply.elapsedTime * 10) / 10,
      ip: request.ip,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request failed');
    else reply.log.info(line, 'request');
  }
}
