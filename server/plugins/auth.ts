// Who is calling: `request.actor` is the user behind the request's API token, or undefined
// for an anonymous request. Where the token may come from depends on the route's
// `config.auth`:
//   'api' (default)  `Authorization: Bearer <token>`; for GET and HEAD also the `gbcms_token`
//                    cookie, so pages' event streams and downloads work for private projects.
//                    A bad header is a 401; a bad cookie is just anonymous (it may be stale).
//   'form'           the page forms: the cookie, on same-origin requests only.
//   'none'           webhooks: signed, not authenticated; the headers are not looked at.
//   'runner'         the runner endpoints: a runner token (`gbcmsr_...`) and nothing else sets
//                    `request.runner`. A runner token anywhere else is a 401, so it opens
//                    nothing but these; a user token here is a 401 too.
// A session key (`gbcmsk_...`) is taken wherever a token is, but only on routes that say
// `config.sessionKey: true` (creating and reporting external executions): there it sets
// `request.sessionKey` and no actor; anywhere else it is a 401, so it never reads anything.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { parseBearer } from '../auth/bearer.ts';
import { isSessionKeyShaped } from '../auth/session-key-crypto.ts';
import { isRunnerTokenShaped } from '../auth/token-crypto.ts';
import { errors } from '../errors.ts';
import type { Runner, Session, User } from '../store/index.ts';
import { readCookie, TOKEN_COOKIE } from './cookies.ts';

export type AuthMode = 'api' | 'form' | 'none' | 'runner';

/** What a valid session key opens: one session of one project. */
export interface SessionKeyGrant {
  keyId: string;
  session: Session;
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: User | undefined;
    sessionKey: SessionKeyGrant | undefined;
    /** The runner behind a runner route's token. */
    runner: Runner | undefined;
  }
  interface FastifyContextConfig {
    auth?: AuthMode;
    /** Errors on this route are answered with an HTML page rather than JSON. */
    html?: boolean;
    /** A session key may call this route (it then checks the key's session itself). */
    sessionKey?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

const authPlugin: FastifyPluginAsync = async (app) => {
  app.decorateRequest('actor', undefined);
  app.decorateRequest('sessionKey', undefined);
  app.decorateRequest('runner', undefined);

  app.addHook('onRequest', async (request) => {
    const mode = request.routeOptions.config.auth ?? 'api';
    if (mode === 'none') return;
    if (mode === 'form') {
      if (!SAFE_METHODS.has(request.method)) assertSameOrigin(request);
      request.actor = await fromCookie(request);
      return;
    }
    const bearer = parseBearer(request.headers.authorization);
    if (bearer.kind === 'malformed')
      throw errors.unauthorized('the Authorization header is not "Bearer <token>"');
    if (mode === 'runner') {
      if (bearer.kind !== 'token' || !isRunnerTokenShaped(bearer.token)) {
        throw errors.unauthorized('the runner endpoints take a runner token (gbcms runner register)');
      }
      request.runner = await app.store.runners.authenticate(bearer.token);
      if (!request.runner) throw errors.unauthorized('the runner token is invalid or revoked');
      return;
    }
    if (bearer.kind === 'token' && isRunnerTokenShaped(bearer.token)) {
      throw errors.unauthorized('a runner token only calls the runner endpoints');
    }
    if (bearer.kind === 'token' && isSessionKeyShaped(bearer.token)) {
      request.sessionKey = await sessionKeyGrant(request, bearer.token);
      return;
    }
    if (bearer.kind === 'token') {
      const found = await app.store.tokens.authenticate(bearer.token);
      if (!found) throw errors.unauthorized('the API token is invalid or revoked');
      request.actor = found.user;
      return;
    }
    if (SAFE_METHODS.has(request.method)) request.actor = await fromCookie(request);
  });

  /** The grant of a key this route takes; throws 401 for a bad key or a route keys may not call. */
  async function sessionKeyGrant(request: FastifyRequest, key: string): Promise<SessionKeyGrant> {
    const grant = await app.store.sessionKeys.authenticate(key);
    if (!grant) throw errors.unauthorized('the session key is invalid, revoked or expired');
    if (request.routeOptions.config.sessionKey !== true) {
      throw errors.unauthorized('a session key only creates executions in its session and reports to them');
    }
    return grant;
  }

  async function fromCookie(request: FastifyRequest): Promise<User | undefined> {
    const token = readCookie(request.headers.cookie, TOKEN_COOKIE);
    if (token === undefined) return undefined;
    return (await app.store.tokens.authenticate(token))?.user;
  }
};

/**
 * Refuses a form post another site made. The cookie is SameSite=Strict already; this covers
 * browsers that ignore that, using the headers every current browser sends with a form post.
 */
function assertSameOrigin(request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw errors.forbidden('cross-site form posts are refused');
  }
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let from: string;
    let own: string;
    try {
      from = new URL(origin).host;
      // Through URL too, so a default port (`:80`) compares equal to none.
      own = new URL(`${request.protocol}://${request.host}`).host;
    } catch {
      throw errors.forbidden('the Origin header is not a URL');
    }
    if (from !== own) throw errors.forbidden('cross-site form posts are refused');
  } else if (origin === 'null') {
    throw errors.forbidden('form posts from an opaque origin are refused');
  }
}

export default fp(authPlugin, { name: 'gbcms-auth', fastify: '5.x', dependencies: ['gbcms-store'] });
