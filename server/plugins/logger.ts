// Logging: pino with secrets redacted, and at most one access-log line per request (with its
// id) instead of fastify's two. Which requests get one is the access-log mode: a busy server's
// reads (pages, badges, API polling) would otherwise fill the log and cost more CPU than
// answering them, while writes and failures are what an operator looks for.
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

/**
 * Which answered requests get an access-log line:
 *   all     every one;
 *   writes  those that may change something (not GET, HEAD or OPTIONS) and every failed one;
 *   errors  failed ones only (status 400 and above);
 *   off     none (server errors are still logged with their details by the error handler).
 */
export const ACCESS_LOG_MODES = ['all', 'writes', 'errors', 'off'] as const;
export type AccessLogMode = (typeof ACCESS_LOG_MODES)[number];
/** `gbcms serve`'s default. */
export const DEFAULT_ACCESS_LOG: AccessLogMode = 'writes';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a request answered with `statusCode` gets a line in `mode`. */
export function accessLogged(
  mode: AccessLogMode,
  method: string,
  statusCode: number,
  failed: boolean,
): boolean {
  if (mode === 'all') return true;
  if (mode === 'off') return false;
  if (failed || statusCode >= 400) return true;
  return mode === 'writes' && !READ_METHODS.has(method);
}

/** One line per answered request the mode keeps: method, URL, route, status, time, client address. */
export class AccessLog extends LogController {
  readonly #mode: AccessLogMode;

  constructor(mode: AccessLogMode = 'all') {
    super();
    this.#mode = mode;
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (!accessLogged(this.#mode, request.method, reply.statusCode, Boolean(error))) return;
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
