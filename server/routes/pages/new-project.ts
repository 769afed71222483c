// The New project page and its form: admins register a project without the API, then land on
// its page, which shows how to connect the repository.
import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.ts';
import { newProjectPage } from '../../pages/new-project-page.ts';
import { MAX_CONCURRENT_LIMIT, registerProject } from '../../projects/register.ts';
import { VISIBILITIES, type Visibility } from '../../store/index.ts';
import { requireActor } from '../access.ts';
import { projectInputHttpError } from '../api/projects.ts';

const HTML = 'text/html; charset=utf-8';

interface NewProjectForm {
  name: string;
  repo: string;
  description?: string;
  default_branch?: string;
  visibility?: Visibility;
  max_concurrent?: string;
}

const newProjectRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/projects/new',
    { config: { html: true }, schema: { hide: true, response: { 200: { type: 'string' } } } },
    async (request, reply) => {
      if (!request.actor) return reply.redirect(`/login?next=${encodeURIComponent('/projects/new')}`, 303);
      if (request.actor.role !== 'admin') throw errors.forbidden('only admins register projects');
      return reply
        .type(HTML)
        .send(newProjectPage({ actor: request.actor, maxConcurrent: MAX_CONCURRENT_LIMIT }).value);
    },
  );

  app.post<{ Body: NewProjectForm }>(
    '/projects',
    {
      config: { html: true, auth: 'form' },
      schema: {
        hide: true,
        body: {
          type: 'object',
          required: ['name', 'repo'],
          properties: {
            name: { type: 'string', maxLength: 100 },
            repo: { type: 'string', maxLength: 4096 },
            description: { type: 'string', maxLength: 2000 },
            default_branch: { type: 'string', maxLength: 255 },
            visibility: { type: 'string', enum: [...VISIBILITIES] },
            max_concurrent: { type: 'string', pattern: '^\\d{0,3}$' },
          },
        },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      if (actor.role !== 'admin') throw errors.forbidden('only admins register projects');
      const form = request.body;
      try {
        const project = await registerProject(app.store, {
          name: form.name,
          repo: form.repo,
          description: form.description?.trim() || null,
          default_branch: form.default_branch?.trim() || undefined,
          visibility: form.visibility,
          max_concurrent: form.max_concurrent ? Number(form.max_concurrent) : undefined,
          owner_id: actor.id,
        });
        request.log.info({ project: project.id, name: project.name, by: actor.id }, 'project registered');
        return reply.redirect(`/projects/${encodeURIComponent(project.id)}`, 303);
      } catch (error) {
        throw projectInputHttpError(error);
      }
    },
  );
};

export default newProjectRoutes;
