// Third-party browser files the pages use, served from node_modules (no CDN: pages work
// offline and the content security policy allows scripts from this origin only). Read once
// when the app starts.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';

const require = createRequire(import.meta.url);
const UPLOT = dirname(require.resolve('uplot/package.json'));

export const VENDOR_FILES = {
  'uplot.js': { file: join(UPLOT, 'dist', 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { file: join(UPLOT, 'dist', 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
} as const;

const vendorRoutes: FastifyPluginAsync = async (app) => {
  for (const [name, { file, type }] of Object.entries(VENDOR_FILES)) {
    const content = await readFile(file);
    app.get(
      `/assets/vendor/${name}`,
      { config: { auth: 'none' }, schema: { hide: true } },
      async (_request, reply) =>
        reply.type(type).header('cache-control', 'public, max-age=3600').send(content),
    );
  }
};

export default vendorRoutes;
