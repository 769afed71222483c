// The project page's "Commit statuses" form: a plain form post (cookie, same origin) for the
// project's owner and admins, with the API's rules; answered with a redirect back.
import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.ts';
import { changeStatusSettings } from '../../forges/status-settings.ts';
import { FORGES, type Forge } from '../../store/index.ts';
import { manageProject } from '../access.ts';

interface StatusSettingsForm {
  /** A checkbox: `on` when ticked, absent otherwise. */
  step_statuses?: string;
  forge?: string;
  forge_repo?: string;
}

const formSchema = {
  type: 'object',
  properties: {
    step_statuses: { type: 'string', maxLength: 10 },
    forge: { type: 'string', enum: ['none', ...FORGES] },
    forge_repo: { type: 'string', maxLength: 255 },
  },
} as const;

const statusSettingsPageRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Params: { id: string }; Body: StatusSettingsForm }>(
    '/projects/:id/status-settings',
    {
      config: { html: true, auth: 'form' as const },
      schema: {
        hide: true,
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        body: formSchema,
      },
    },
    async (request, reply) => {
      const { project } = await manageProject(request, request.params.id);
      const body = request.body ?? {};
      const forge = body.forge === undefined || body.forge === 'none' ? null : (body.forge as Forge);
      const repo = body.forge_repo?.trim() ?? '';
      // The form always sends every field: it says the whole state, as a PUT would.
      const result = changeStatusSettings(await app.store.statusSettings.get(project.id), {
        step_statuses: body.step_statuses === 'on',
        forge,
        ...(forge === null ? {} : { forge_repo: repo }),
      });
      if ('problem' in result) throw errors.validation(result.problem);
      await app.store.statusSettings.set(project.id, result.settings);
      return reply.redirect(`/projects/${encodeURIComponent(project.id)}#commit-statuses`, 303);
    },
  );
};

export default statusSettingsPageRoutes;
