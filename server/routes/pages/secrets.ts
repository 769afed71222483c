// The project page's Secrets form: add or replace a project secret, remove one. Plain form
// posts like the other page buttons (cookie, same origin), for the project's owner and admins;
// each answers with a redirect back to the project page, which lists names only. And each
// secret's own page (its audit trail): project secrets for those who manage the project,
// global ones for admins.
import type { FastifyPluginAsync } from 'fastify';
import { MIN_SECRET_LENGTH } from '../../../engine/logs/masker.ts';
import type { TriggerEvent } from '../../../engine/plan.ts';
import { errors } from '../../errors.ts';
import { secretPage } from '../../pages/secret-page.ts';
import { isSecretName, MAX_SECRET_VALUE_BYTES } from '../../secrets/policy.ts';
import { type SecretScope, scopeKey, secretView } from '../../secrets/vault.ts';
import { SECRET_EVENTS, type SecretUse, type Store } from '../../store/index.ts';
import { manageProject, requireActor } from '../access.ts';
import { SECRET_USES_LISTED } from '../api/secrets.ts';
import { idParams } from '../params.ts';

interface SecretForm {
  name?: string;
  value?: string;
  events?: string;
  branches?: string;
}

const formConfig = { html: true, auth: 'form' as const };

/** `a, b` -> ['a', 'b']; blank -> null (no limit). */
function listField(text: string | undefined): string[] | null {
  const items = (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length === 0 ? null : [...new Set(items)];
}

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;
const HTML = 'text/html; charset=utf-8';

/** The secret and its last uses, each use with its project's name; undefined when there is no such secret. */
async function auditOf(store: Store, scope: SecretScope, name: string) {
  const stored = await store.secrets.get(scopeKey(scope), name);
  if (!stored) return undefined;
  const uses = await store.secrets.uses(scopeKey(scope), name, SECRET_USES_LISTED);
  const names = new Map<string, string>();
  for (const id of new Set(uses.map((use) => use.project_id))) {
    names.set(id, (await store.projects.get(id))?.name ?? id);
  }
  const named = uses.map((use: SecretUse) => ({ ...use, project_name: names.get(use.project_id) ?? '' }));
  return { secret: secretView(stored), uses: named };
}

const secretPageRoutes: FastifyPluginAsync = async (app) => {
  const projectPage = (id: string) => `/projects/${encodeURIComponent(id)}`;

  app.get<{ Params: { id: string; name: string } }>(
    '/projects/:id/secrets/:name',
    {
      config: { html: true },
      schema: {
        hide: true,
        params: {
          type: 'object',
          required: ['id', 'name'],
          properties: { ...idParams.properties, ...nameParams.properties },
        },
      },
    },
    async (request, reply) => {
      const { project } = await manageProject(request, request.params.id);
      const audit = await auditOf(app.store, { kind: 'project', projectId: project.id }, request.params.name);
      if (!audit) throw errors.secretNotFound();
      const page = secretPage({
        actor: request.actor,
        ...audit,
        project: { id: project.id, name: project.name },
        now: new Date(),
      });
      return reply.type(HTML).send(page.value);
    },
  );

  app.get<{ Params: { name: string } }>(
    '/secrets/:name',
    { config: { html: true }, schema: { hide: true, params: nameParams } },
    async (request, reply) => {
      if (requireActor(request).role !== 'admin') throw errors.forbidden('only admins see global secrets');
      const audit = await auditOf(app.store, { kind: 'global' }, request.params.name);
      if (!audit) throw errors.secretNotFound();
      return reply.type(HTML).send(secretPage({ actor: request.actor, ...audit, now: new Date() }).value);
    },
  );

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
