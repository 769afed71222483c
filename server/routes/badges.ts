// GET /badges/:project_id.svg[?branch=]: a shields-style badge of the latest execution's
// status (running or finished) on the branch, or on any ref. Unknown or private projects get
// a grey "unknown" badge with 404, so a README still shows something.
import { makeBadge } from 'badge-maker';
import type { FastifyPluginAsync } from 'fastify';
import type { RunStatus } from '../../engine/status.ts';
import { projectAccess } from '../auth/access.ts';

const COLORS: Record<RunStatus | 'unknown', string> = {
  success: 'brightgreen',
  failure: 'red',
  error: 'orange',
  killed: 'lightgrey',
  skipped: 'lightgrey',
  running: 'blue',
  pending: 'yellow',
  blocked: 'yellow',
  unknown: 'lightgrey',
};

const LABEL = 'build';

/** Rendered badges by status: badge-maker lays out text on every call, and there are nine. */
const rendered = new Map<RunStatus | 'unknown', string>();

export function statusBadge(status: RunStatus | 'unknown'): string {
  let svg = rendered.get(status);
  if (svg === undefined) {
    svg = makeBadge({ label: LABEL, message: status, color: COLORS[status], style: 'flat' });
    rendered.set(status, svg);
  }
  return svg;
}

const badgeRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { file: string }; Querystring: { branch?: string } }>(
    '/badges/:file',
    {
      schema: {
        summary: "Status badge (SVG) of a project's latest execution",
        tags: ['badges'],
        params: {
          type: 'object',
          required: ['file'],
          properties: {
            file: { type: 'string', pattern: '^[^/]{1,64}\\.svg$', description: '<project_id>.svg' },
          },
        },
        querystring: {
          type: 'object',
          properties: { branch: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        produces: ['image/svg+xml'],
        response: { 200: { type: 'string' }, 404: { type: 'string' } },
      },
    },
    async (request, reply) => {
      const projectId = request.params.file.slice(0, -'.svg'.length);
      const access = await projectAccess(app.store.projects, request.actor, projectId);
      const latest = access
        ? await app.store.executions.latestForBadge(projectId, request.query.branch)
        : undefined;
      reply
        .code(access ? 200 : 404)
        .type('image/svg+xml; charset=utf-8')
        .header('cache-control', 'no-cache, max-age=0')
        .header('x-content-type-options', 'nosniff');
      return statusBadge(latest?.status ?? 'unknown');
    },
  );
};

export default badgeRoutes;
