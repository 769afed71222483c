// Signing in and out of the pages: POST /login checks the token and keeps it in the
// `gbcms_token` cookie (HttpOnly, SameSite=Strict, 30 days); POST /logout forgets it.
import type { FastifyPluginAsync } from 'fastify';
import { loginPage } from '../../pages/login-page.ts';
import { TOKEN_COOKIE, tokenCookie } from '../../plugins/cookies.ts';

const COOKIE_MAX_AGE_S = 30 * 24 * 3600;
const HTML = 'text/html; charset=utf-8';

/** Only a path on this site: `//evil.example` and `/\evil.example` are other sites to a browser. */
export function safeNext(next: string | undefined): string {
  if (next === undefined || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\'))
    return '/';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  return /[\u0000-\u001f\u007f\\]/.test(next) ? '/' : next;
}

const formBody = {
  type: 'object',
  properties: { token: { type: 'string', maxLength: 200 }, next: { type: 'string', maxLength: 2000 } },
} as const;

const sessionRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: { next?: string } }>(
    '/login',
    {
      config: { html: true, auth: 'none' },
      schema: {
        hide: true,
        querystring: { type: 'object', properties: { next: { type: 'string', maxLength: 2000 } } },
        response: { 200: { type: 'string' } },
      },
    },
    async (request, reply) => reply.type(HTML).send(loginPage({ next: safeNext(request.query.next) }).value),
  );

  app.post<{ Body: { token?: string; next?: string } }>(
    '/login',
    {
      config: { html: true, auth: 'form' },
      schema: { hide: true, body: formBody, response: { 401: { type: 'string' } } },
    },
    async (request, reply) => {
      const next = safeNext(request.body.next);
      const token = request.body.token?.trim() ?? '';
      const found = token === '' ? undefined : await app.store.tokens.authenticate(token);
      if (!found) {
        return reply
          .code(401)
          .type(HTML)
          .send(loginPage({ next, problem: 'That token is not valid (or was revoked).' }).value);
      }
      request.log.info({ user: found.user.id }, 'signed in to the pages');
      return reply
        .header(
          'set-cookie',
          tokenCookie(token, { maxAgeSeconds: COOKIE_MAX_AGE_S, secure: app.settings.secureCookies }),
        )
        .redirect(next, 303);
    },
  );

  app.post(
    '/logout',
    { config: { html: true, auth: 'form' }, schema: { hide: true } },
    async (_request, reply) =>
      reply
        .header('set-cookie', `${TOKEN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`)
        .redirect('/', 303),
  );
};

export default sessionRoutes;
