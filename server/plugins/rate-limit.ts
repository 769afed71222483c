// Requests per client address: `max` per window on every route, answered 429 beyond it. A
// client that keeps going far past the limit (`banAfter` refused requests in one window) is
// refused with 403 for `banMs` (an hour by default), whatever the window says.
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { errors } from '../errors.ts';

export interface RateLimitSettings {
  max: number;
  timeWindowMs: number;
  /** Refused requests in one window before the address is banned; default 4 × max (5× the limit in all). */
  banAfter?: number;
  /** Default one hour. */
  banMs?: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = { max: 600, timeWindowMs: 60_000 };
const DEFAULT_BAN_MS = 60 * 60 * 1000;

const rateLimitPlugin: FastifyPluginAsync<{ limits: RateLimitSettings }> = async (app, { limits }) => {
  const banMs = limits.banMs ?? DEFAULT_BAN_MS;
  const bannedUntil = new Map<string, number>();

  await app.register(rateLimit, {
    global: false,
    max: limits.max,
    timeWindow: limits.timeWindowMs,
    ban: limits.banAfter ?? 4 * limits.max,
    keyGenerator: (request) => request.ip,
    // Runners are few, authenticated and poll by design; many may share one address (a NAT).
    allowList: (request) => request.routeOptions.config.auth === 'runner',
    onBanReach: (_request, key) => {
      const now = Date.now();
      for (const [address, until] of bannedUntil) if (until <= now) bannedUntil.delete(address);
      bannedUntil.set(key, now + banMs);
    },
    errorResponseBuilder: (_request, context) =>
      context.ban
        ? errors.banned()
        : errors.rateLimited(`too many requests: at most ${context.max} in ${context.after}; retry later`),
  });

  // Hooks run in the order they are added: the ban and the limit come before anything that
  // costs (token lookups, body parsing).
  app.addHook('onRequest', async (request, reply) => {
    const until = bannedUntil.get(request.ip);
    if (until === undefined) return;
    if (until <= Date.now()) {
      bannedUntil.delete(request.ip);
      return;
    }
    reply.header('retry-after', Math.ceil((until - Date.now()) / 1000));
    throw errors.banned();
  });
  app.addHook('onRequest', app.rateLimit());
};

export default fp(rateLimitPlugin, { name: 'gbcms-rate-limit', fastify: '5.x' });
