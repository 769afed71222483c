// The project page's Secrets form: add or replace a project secret, remove one. Plain form
// posts like the other page buttons (cookie, same origin), for the project's owner and admins;
// each answers with a redirect back to the project page, which lists names only.
import type { FastifyPluginAsync } from 'fastify';
import { MIN_SECRET_LENGTH } from '../../../engine/logs/masker.ts';
import type { TriggerEvent } from '../../../engine/plan.ts';
import { errors } from '../../errors.ts';
import { isSecretName, MAX_SECRET_VALUE_BYTES } from '../../secrets/policy.ts';
import { scopeKey } from '../../secrets/vault.ts';
import { SECRET_EVENTS } from '../../store/index.ts';
import { manageProject, requireActor } from '../access.ts';

interface SecretForm {
  name?: string;
  value?: string;
  events?: string;
  branches?: string;
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;
const formConfig = { html: true, auth: 'form' as const };

/** `a, b` -> ['a', 'b']; blank -> null (no limit). */
function listField(text: string | undefined): string[] | null {
  const items = (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length === 0 ? null : [...new Set(items)];
}

const secretPageRoutes: FastifyPluginAsync = async (app) => {
  const projectPage = (id: string) => `/projects/${encodeURIComponent(id)}`;

  app.post<{ Params: { id: string }; Body: SecretForm }>(
    '/projects/:id/secrets',
    { config: formConfig, schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const { project } = await manageProject(request, request.params.id);
      const actor = requireActor(request);
      const vault = app.secretVault;
      if (!vault) throw errors.secretsUnavailable();
      const { name = '', value = '' } = request.body ?? {};
      if (!isSecretName(name)) {
        throw errors.invalidSecret(
          'the name must be letters, digits and _, not start with a digit, 4 or more',
        );
      }
      if (value.length < MIN_SECRET_LENGTH)
        throw errors.invalidSecret('the value must be 4 characters or more');
      if (Buffer.byteLength(value) > MAX_SECRET_VALUE_BYTES || value.includes('\u0000')) {
        throw errors.invalidSecret(`the value must be at most ${MAX_SECRET_VALUE_BYTES} bytes, without NUL`);
      }
      const events = listField(request.body?.events);
      const unknown = events?.find((event) => !(SECRET_EVENTS as readonly string[]).includes(event));
      if (unknown !== undefined) throw errors.invalidSecret(`unknown event '${unknown}'`);
      const branches = listField(request.body?.branches);
      const scope = { kind: 'project', projectId: project.id } as const;
      await vault.set(scope, {
        name,
        value,
        limits: { events: events as TriggerEvent[] | null, branches },
        by: actor.username,
      });
      request.log.info(
        { scope: scopeKey(scope), secret_name: name, by: actor.id },
        'secret set from the project page',
      );
      return reply.redirect(projectPage(project.id), 303);
    },
  );

  app.post<{ Params: { id: string; name: string } }>(
    '/projects/:id/secrets/:name/remove',
    {
      config: formConfig,
      schema: {
        hide: true,
        params: {
          type: 'object',
          required: ['id', 'name'],
          properties: { ...idParams.properties, name: { type: 'string', minLength: 1, maxLength: 128 } },
        },
      },
    },
    async (request, reply) => {
      const { project } = await manageProject(request, request.params.id);
      const scope = scopeKey({ kind: 'project', projectId: project.id });
      if (!(await app.store.secrets.remove(scope, request.params.name))) throw errors.secretNotFound();
      request.log.info({ scope, secret_name: request.params.name, by: request.actor?.id }, 'secret removed');
      return reply.redirect(projectPage(project.id), 303);
    },
  );
};

export default secretPageRoutes;
