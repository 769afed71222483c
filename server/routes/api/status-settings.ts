// A project's commit-status settings over HTTP: whether each step gets a status of its own,
// and which forge repository the plain git hook's pushes report to. Anyone who may read the
// project reads them; its owner and admins change them.
import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.ts';
import { FORGE_REPO_FORMS } from '../../forges/forge-repo.ts';
import { changeStatusSettings, type StatusSettingsChange } from '../../forges/status-settings.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { FORGES, type StatusSettings } from '../../store/index.ts';
import { manageProject, readProject, requireActor } from '../access.ts';
import { idParams } from '../params.ts';

const forgeProperty = {
  type: ['string', 'null'],
  enum: [...FORGES, null],
  description: 'the forge pushes notified by the plain git hook report to; null: none',
} as const;
const forgeRepoProperty = {
  type: ['string', 'null'],
  minLength: 1,
  maxLength: 255,
  description: `that forge's repository: ${FORGE_REPO_FORMS.github} on GitHub and Gitea, ${FORGE_REPO_FORMS.gitlab} on GitLab`,
} as const;
const stepStatusesProperty = {
  type: 'boolean',
  description: 'each step also gets a status of its own, context gbcms/<project>/<step>',
} as const;

const settingsSchema = {
  type: 'object',
  required: ['step_statuses', 'forge', 'forge_repo'],
  additionalProperties: false,
  properties: { step_statuses: stepStatusesProperty, forge: forgeProperty, forge_repo: forgeRepoProperty },
} as const;

export function statusSettingsView(settings: StatusSettings) {
  return {
    step_statuses: settings.step_statuses,
    forge: settings.git_hook_forge?.forge ?? null,
    forge_repo: settings.git_hook_forge?.repo ?? null,
  };
}

const statusSettingsRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { id: string } }>(
    '/api/projects/:id/status-settings',
    {
      schema: {
        summary: "A project's commit-status settings",
        tags: ['projects'],
        params: idParams,
        response: { 200: settingsSchema, ...errorResponses(401, 404) },
      },
    },
    async (request) => {
      const { project } = await readProject(request, request.params.id);
      return statusSettingsView(await app.store.statusSettings.get(project.id));
    },
  );

  app.patch<{ Params: { id: string }; Body: StatusSettingsChange }>(
    '/api/projects/:id/status-settings',
    {
      schema: {
        summary: "Change a project's commit-status settings (its owner or admins)",
        tags: ['projects'],
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            step_statuses: stepStatusesProperty,
            forge: forgeProperty,
            forge_repo: forgeRepoProperty,
          },
        },
        response: { 200: settingsSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { project } = await manageProject(request, request.params.id);
      const current = await app.store.statusSettings.get(project.id);
      const result = changeStatusSettings(current, request.body);
      if ('problem' in result) throw errors.validation(result.problem);
      await app.store.statusSettings.set(project.id, result.settings);
      request.log.info(
        { project: project.id, changed: Object.keys(request.body), by: requireActor(request).id },
        'status settings changed',
      );
      return statusSettingsView(result.settings);
    },
  );
};

export default statusSettingsRoutes;
