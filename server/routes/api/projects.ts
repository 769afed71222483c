// Projects: register (admins), list, look at, change settings, list executions.
import type { FastifyPluginAsync } from 'fastify';
import type { RunStatus } from '../../../engine/status.ts';
import { RUN_STATUSES } from '../../../engine/status.ts';
import { errors } from '../../errors.ts';
import { refNameProblem } from '../../git/ref-name.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import {
  MAX_CONCURRENT_LIMIT,
  PROJECT_NAME_PATTERN,
  ProjectExistsError,
  ProjectInputError,
  registerProject,
} from '../../projects/register.ts';
import {
  FORK_PULL_REQUEST_POLICIES,
  type ForkPullRequestPolicy,
  InvalidCursorError,
  MAX_PAGE_SIZE,
  type Project,
  type ProjectPatch,
  VISIBILITIES,
  type Visibility,
} from '../../store/index.ts';
import { manageProject, readProject, requireActor } from '../access.ts';
import { links } from '../links.ts';
import { idParams } from '../params.ts';
import { usernameLookup } from './users.ts';
import { executionView, projectView } from './views.ts';

interface NewProjectBody {
  name: string;
  repo: string;
  description?: string;
  default_branch?: string;
  visibility?: Visibility;
  max_concurrent?: number;
  fork_pull_requests?: ForkPullRequestPolicy;
}

const forkPullRequestsProperty = {
  type: 'string',
  enum: [...FORK_PULL_REQUEST_POLICIES],
  description: 'pull requests from forks: approve (the default: wait blocked for a member), run, never',
} as const;

interface ProjectChangesBody {
  owner?: string;
  description?: string | null;
  default_branch?: string;
  visibility?: Visibility;
  max_concurrent?: number;
  fork_pull_requests?: ForkPullRequestPolicy;
}

/** What the API answers for a project the input cannot make. */
export function projectInputHttpError(error: unknown): unknown {
  if (error instanceof ProjectExistsError) return errors.projectExists();
  if (!(error instanceof ProjectInputError)) return error;
  if (error.field === 'repo') return errors.invalidRepo(error.message);
  if (error.field === 'default_branch') return errors.invalidRef(error.message);
  return errors.validation(error.message);
}

const projectsRoutes: FastifyPluginAsync = async (app) => {
  const urls = links(app.settings.publicUrl);
  const isAdmin = (role: string | undefined) => role === 'admin';

  app.post<{ Body: NewProjectBody }>(
    '/api/projects',
    {
      schema: {
        summary: 'Register a project (admins only); the answer holds its webhook secret',
        tags: ['projects'],
        body: {
          type: 'object',
          required: ['name', 'repo'],
          additionalProperties: false,
          properties: {
            // Printable, no leading/trailing space: names show up in pages, logs and badges.
            name: {
              type: 'string',
              minLength: 1,
              maxLength: 100,
              pattern: PROJECT_NAME_PATTERN,
            },
            repo: {
              type: 'string',
              minLength: 1,
              maxLength: 4096,
              description: 'clone URL or absolute path',
            },
            description: { type: 'string', maxLength: 2000 },
            default_branch: { type: 'string', minLength: 1, maxLength: 255 },
            visibility: { type: 'string', enum: [...VISIBILITIES] },
            max_concurrent: { type: 'integer', minimum: 1, maximum: MAX_CONCURRENT_LIMIT },
            fork_pull_requests: forkPullRequestsProperty,
          },
        },
        response: { 201: { $ref: 'Project#' }, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      if (!isAdmin(actor.role)) throw errors.forbidden('only admins register projects');
      let project: Project;
      try {
        project = await registerProject(app.store, { ...request.body, owner_id: actor.id });
      } catch (error) {
        throw projectInputHttpError(error);
      }
      request.log.info({ project: project.id, name: project.name, by: actor.id }, 'project registered');
      return reply.code(201).send(projectView(project, { showSecret: true }, urls));
    },
  );

  app.get(
    '/api/projects',
    {
      schema: {
        summary: 'Projects the caller may see, by name',
        tags: ['projects'],
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: { $ref: 'Project#' } } },
          },
          ...errorResponses(401),
        },
      },
    },
    async (request) => {
      const projects = await app.store.projects.list(request.actor);
      const showSecret = isAdmin(request.actor?.role);
      return { items: projects.map((project) => projectView(project, { showSecret }, urls)) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/projects/:id',
    {
      schema: {
        summary: 'A project',
        tags: ['projects'],
        params: idParams,
        response: { 200: { $ref: 'Project#' }, ...errorResponses(401, 404) },
      },
    },
    async (request) => {
      const { project } = await readProject(request, request.params.id);
      return projectView(project, { showSecret: isAdmin(request.actor?.role) }, urls);
    },
  );

  app.patch<{ Params: { id: string }; Body: ProjectChangesBody }>(
    '/api/projects/:id',
    {
      schema: {
        summary: "Change a project's settings (its owner or admins); only admins hand it to another owner",
        tags: ['projects'],
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            owner: { ...usernameLookup, description: 'username of the new owner (admins only)' },
            description: { type: ['string', 'null'], maxLength: 2000 },
            default_branch: { type: 'string', minLength: 1, maxLength: 255 },
            visibility: { type: 'string', enum: [...VISIBILITIES] },
            max_concurrent: { type: 'integer', minimum: 1, maximum: MAX_CONCURRENT_LIMIT },
            fork_pull_requests: forkPullRequestsProperty,
          },
        },
        response: { 200: { $ref: 'Project#' }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { project } = await manageProject(request, request.params.id);
      const actor = requireActor(request);
      const { owner, ...settings } = request.body;
      if (settings.default_branch !== undefined) {
        const problem = refNameProblem(settings.default_branch);
        if (problem) throw errors.invalidRef(`default_branch ${problem}`);
      }
      const patch: ProjectPatch = { ...settings };
      if (owner !== undefined) {
        // An owner manages the project but may not give it away: that is an admin's decision.
        if (!isAdmin(actor.role)) throw errors.forbidden("only admins change a project's owner");
        const user = await app.store.users.byUsername(owner);
        if (!user) throw errors.userNotFound(`no user '${owner}'`);
        patch.owner_id = user.id;
      }
      const updated = await app.store.projects.update(project.id, patch);
      if (!updated) throw errors.projectNotFound();
      request.log.info(
        { project: project.id, changed: Object.keys(request.body), by: actor.id },
        'project changed',
      );
      return projectView(updated, { showSecret: isAdmin(actor.role) }, urls);
    },
  );

  app.get<{
    Params: { id: string };
    Querystring: { status?: RunStatus; branch?: string; limit?: number; cursor?: string };
  }>(
    '/api/projects/:id/executions',
    {
      schema: {
        summary: "A project's executions, newest first, a page at a time",
        tags: ['projects', 'executions'],
        params: idParams,
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: [...RUN_STATUSES] },
            branch: { type: 'string', minLength: 1, maxLength: 1024 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE },
            cursor: { type: 'string', minLength: 1, maxLength: 512 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['items', 'next_cursor'],
            properties: {
              items: { type: 'array', items: { $ref: 'Execution#' } },
              next_cursor: { type: ['string', 'null'], description: 'pass as ?cursor= for the next page' },
            },
          },
          ...errorResponses(400, 401, 404),
        },
      },
    },
    async (request) => {
      const { project } = await readProject(request, request.params.id);
      const { status, branch, limit, cursor } = request.query;
      try {
        const page = await app.store.executions.listByProject(project.id, {
          ...(status !== undefined ? { status } : {}),
          ...(branch !== undefined ? { branch } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        return {
          items: page.items.map((execution) => executionView(execution, urls)),
          next_cursor: page.next_cursor,
        };
      } catch (error) {
        if (error instanceof InvalidCursorError) throw errors.invalidCursor();
        throw error;
      }
    },
  );
};

export default projectsRoutes;
