// The HTML pages: server-rendered, no build step. Static files (CSS, the live scripts) come
// from server/pages/assets/, uPlot from node_modules (vendor.ts). Pages read the visitor's API
// token from the `gbcms_token` cookie that /login sets; their forms post back here with that
// cookie (same-origin only).
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import actionRoutes from './actions.ts';
import browseRoutes from './browse.ts';
import logSearchPageRoutes from './log-search.ts';
import newProjectRoutes from './new-project.ts';
import secretPageRoutes from './secrets.ts';
import sessionRoutes from './session.ts';
import sessionPageRoutes from './sessions.ts';
import statusSettingsPageRoutes from './status-settings.ts';
import vendorRoutes from './vendor.ts';

const ASSETS = fileURLToPath(new URL('../../pages/assets/', import.meta.url));

// Scripts only from this origin; inline styles stay allowed (ansi-to-html colours lines with style="").
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const pageRoutes: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, {
    root: ASSETS,
    prefix: '/assets/',
    index: false,
    list: false,
    dotfiles: 'deny',
    cacheControl: true,
    maxAge: '1h',
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-frame-options', 'DENY');
      reply.header('cache-control', 'no-store');
    }
    return payload;
  });

  await app.register(vendorRoutes);
  await app.register(browseRoutes);
  await app.register(logSearchPageRoutes);
  await app.register(sessionRoutes);
  await app.register(sessionPageRoutes);
  await app.register(actionRoutes);
  await app.register(secretPageRoutes);
  await app.register(newProjectRoutes);
  await app.register(statusSettingsPageRoutes);
};

export default pageRoutes;
