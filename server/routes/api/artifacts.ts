// An execution's artifacts: the list, and downloads. A download is served only when the path
// is one the store recorded for the execution, and only from inside its artifacts folder:
// traversal (`..`, `%2f..`, absolute paths, backslashes) and links are refused.
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { readExecution } from '../access.ts';
import { links } from '../links.ts';
import { idParams } from '../params.ts';
import { artifactsDir, resolveInside } from './execution-files.ts';
import { artifactView } from './views.ts';

const artifactsRoutes: FastifyPluginAsync = async (app) => {
  const urls = links(app.settings.publicUrl);

  app.get<{ Params: { id: string } }>(
    '/api/executions/:id/artifacts',
    {
      schema: {
        summary: "An execution's artifacts",
        tags: ['artifacts'],
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: { $ref: 'Artifact#' } } },
          },
          ...errorResponses(401, 404),
        },
      },
    },
    async (request) => {
      const { execution } = await readExecution(request, request.params.id);
      const items = await app.store.artifacts.list(execution.id);
      return { items: items.map((artifact) => artifactView(execution.id, artifact, urls)) };
    },
  );

  app.get<{ Params: { id: string; '*': string } }>(
    '/api/executions/:id/artifacts/*',
    {
      schema: {
        summary: 'Download one artifact',
        tags: ['artifacts'],
        params: {
          type: 'object',
          required: ['id', '*'],
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 64 },
            '*': { type: 'string', maxLength: 4096 },
          },
        },
        produces: ['application/octet-stream'],
        response: { 200: { type: 'string', format: 'binary' }, ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const path = request.params['*'];
      const problem = pathProblem(path);
      if (problem) throw errors.invalidPath(problem);
      const { execution } = await readExecution(request, request.params.id);
      const recorded = (await app.store.artifacts.list(execution.id)).find(
        (artifact) => artifact.path === path,
      );
      if (!recorded) throw errors.artifactNotFound();

      const root = artifactsDir(app.store.dataDir, execution);
      const file = resolveInside(root, path);
      if (file === undefined) throw errors.invalidPath('the path leaves the artifacts folder');
      const handle = await openInside(root, file);
      if (!handle) throw errors.artifactNotFound('the artifact is recorded but its file is gone');
      const stat = await handle.stat();
      return reply
        .type('application/octet-stream')
        .header('content-length', stat.size)
        .header('content-disposition', attachment(posix.basename(path)))
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, no-cache')
        .send(handle.createReadStream());
    },
  );
};

/** Why a requested artifact path is refused before anything is looked up, if it is. */
export function pathProblem(path: string): string | undefined {
  if (path === '') return 'no artifact path given';
  if (path.includes('\0')) return 'the path contains a NUL byte';
  if (path.includes('\\')) return 'the path contains a backslash';
  if (path.startsWith('/')) return 'the path is absolute';
  const segments = path.split('/');
  if (segments.includes('..')) return "the path contains a '..' segment";
  if (segments.some((segment) => segment === '' || segment === '.'))
    return 'the path has an empty or "." segment';
  return undefined;
}

/** The file opened without following a final link, after checking no folder on the way is a link out. */
async function openInside(root: string, file: string) {
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(file), realpath(root)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!real.startsWith(realRoot + posix.sep)) return undefined;
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    return undefined;
  }
  return handle;
}

/** `filename` for old clients (ASCII, quotes removed), `filename*` with the real name. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export default artifactsRoutes;
