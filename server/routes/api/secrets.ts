// Secrets over HTTP, for a project (its owner and admins) and global ones (admins). A value goes
// in with PUT and never comes out: every answer is the Secret schema, which has no value field.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { MIN_SECRET_LENGTH } from '../../../engine/logs/masker.ts';
import type { TriggerEvent } from '../../../engine/plan.ts';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { MAX_SECRET_VALUE_BYTES, SECRET_NAME_PATTERN } from '../../secrets/policy.ts';
import { type SecretScope, scopeKey, secretView } from '../../secrets/vault.ts';
import { SECRET_EVENTS } from '../../store/index.ts';
import { manageProject, requireActor } from '../access.ts';
import { links } from '../links.ts';

interface SecretBody {
  value: string;
  events?: TriggerEvent[] | null;
  branches?: string[] | null;
}

/** How many of the last executions that used a secret its detail lists. */
export const SECRET_USES_LISTED = 20;

const nameProperty = { type: 'string', pattern: SECRET_NAME_PATTERN, maxLength: 128 } as const;
const projectParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;
const projectNameParams = {
  type: 'object',
  required: ['id', 'name'],
  properties: { ...projectParams.properties, name: nameProperty },
} as const;
const nameParams = { type: 'object', required: ['name'], properties: { name: nameProperty } } as const;

const secretBody = {
  type: 'object',
  required: ['value'],
  additionalProperties: false,
  properties: {
    value: {
      type: 'string',
      minLength: MIN_SECRET_LENGTH,
      description: `up to ${MAX_SECRET_VALUE_BYTES} bytes of UTF-8; never shown again`,
    },
    events: {
      type: ['array', 'null'],
      uniqueItems: true,
      minItems: 1,
      items: { type: 'string', enum: [...SECRET_EVENTS] },
      description: 'events it is given to; absent or null: every event',
    },
    branches: {
      type: ['array', 'null'],
      uniqueItems: true,
      minItems: 1,
      maxItems: 50,
      items: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\s\\u0000-\\u001f\\u007f]+$' },
      description:
        'branch globs (`main`, `release/*`) it is given to; absent or null: every branch, and tags',
    },
  },
} as const;

const useSchema = {
  type: 'object',
  required: ['execution_id', 'project_id', 'number', 'status', 'created_at', 'web_url'],
  properties: {
    execution_id: { type: 'string' },
    project_id: { type: 'string' },
    number: { type: 'integer' },
    status: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    web_url: { type: 'string' },
  },
} as const;

const detailSchema = {
  type: 'object',
  required: ['secret', 'uses'],
  properties: {
    secret: { $ref: 'Secret#' },
    uses: { type: 'array', items: useSchema, description: 'the last executions given it, newest first' },
  },
} as const;

const listSchema = {
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'Secret#' } } },
} as const;

const secretsRoutes: FastifyPluginAsync = async (app) => {
  const urls = links(app.settings.publicUrl);

  async function projectScope(request: FastifyRequest, projectId: string): Promise<SecretScope> {
    const { project } = await manageProject(request, projectId);
    return { kind: 'project', projectId: project.id };
  }

  function globalScope(request: FastifyRequest): SecretScope {
    if (requireActor(request).role !== 'admin') throw errors.forbidden('only admins manage global secrets');
    return { kind: 'global' };
  }

  async function put(request: FastifyRequest, scope: SecretScope, name: string, body: SecretBody) {
    const vault = app.secretVault;
    if (!vault) throw errors.secretsUnavailable();
    if (Buffer.byteLength(body.value, 'utf8') > MAX_SECRET_VALUE_BYTES) {
      throw errors.invalidSecret(`a secret value may be at most ${MAX_SECRET_VALUE_BYTES} bytes`);
    }
    // An environment variable cannot hold a NUL byte: the step could never receive it.
    if (body.value.includes('\u0000'))
      throw errors.invalidSecret('a secret value may not contain a NUL character');
    const actor = requireActor(request);
    const existed = (await app.store.secrets.get(scopeKey(scope), name)) !== undefined;
    await vault.set(scope, {
      name,
      value: body.value,
      limits: { events: body.events ?? null, branches: body.branches ?? null },
      by: actor.username,
    });
    request.log.info(
      { scope: scopeKey(scope), secret_name: name, by: actor.id },
      existed ? 'secret replaced' : 'secret set',
    );
    const stored = await app.store.secrets.get(scopeKey(scope), name);
    if (!stored) throw errors.secretNotFound();
    return { created: !existed, view: secretView(stored) };
  }

  async function detail(scope: SecretScope, name: string) {
    const key = scopeKey(scope);
    const stored = await app.store.secrets.get(key, name);
    if (!stored) throw errors.secretNotFound();
    const uses = await app.store.secrets.uses(key, name, SECRET_USES_LISTED);
    return {
      secret: secretView(stored),
      uses: uses.map((use) => ({ ...use, web_url: urls.executionPage(use.execution_id) })),
    };
  }

  async function remove(request: FastifyRequest, scope: SecretScope, name: string) {
    if (!(await app.store.secrets.remove(scopeKey(scope), name))) throw errors.secretNotFound();
    request.log.info({ scope: scopeKey(scope), secret_name: name, by: request.actor?.id }, 'secret removed');
  }

  const putResponses = { 200: { $ref: 'Secret#' }, 201: { $ref: 'Secret#' } } as const;

  app.put<{ Params: { id: string; name: string }; Body: SecretBody }>(
    '/api/projects/:id/secrets/:name',
    {
      schema: {
        summary:
          'Set or replace a project secret (its owner or admins); it overrides a global one of the same name',
        tags: ['secrets'],
        params: projectNameParams,
        body: secretBody,
        response: { ...putResponses, ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const scope = await projectScope(request, request.params.id);
      const { created, view } = await put(request, scope, request.params.name, request.body);
      return reply.code(created ? 201 : 200).send(view);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/projects/:id/secrets',
    {
      schema: {
        summary: "A project's secrets, by name (its owner or admins); never their values",
        tags: ['secrets'],
        params: projectParams,
        response: { 200: listSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const scope = await projectScope(request, request.params.id);
      return { items: (await app.store.secrets.list(scopeKey(scope))).map(secretView) };
    },
  );

  app.get<{ Params: { id: string; name: string } }>(
    '/api/projects/:id/secrets/:name',
    {
      schema: {
        summary: 'A project secret (never its value) and the last executions given it',
        tags: ['secrets'],
        params: projectNameParams,
        response: { 200: detailSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => detail(await projectScope(request, request.params.id), request.params.name),
  );

  app.delete<{ Params: { id: string; name: string } }>(
    '/api/projects/:id/secrets/:name',
    {
      schema: {
        summary: 'Remove a project secret (its owner or admins)',
        tags: ['secrets'],
        params: projectNameParams,
        response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await remove(request, await projectScope(request, request.params.id), request.params.name);
      return reply.code(204).send();
    },
  );

  app.put<{ Params: { name: string }; Body: SecretBody }>(
    '/api/secrets/:name',
    {
      schema: {
        summary: 'Set or replace a global secret, given to every project that names it (admins)',
        tags: ['secrets'],
        params: nameParams,
        body: secretBody,
        response: { ...putResponses, ...errorResponses(400, 401, 403, 503) },
      },
    },
    async (request, reply) => {
      const { created, view } = await put(request, globalScope(request), request.params.name, request.body);
      return reply.code(created ? 201 : 200).send(view);
    },
  );

  app.get(
    '/api/secrets',
    {
      schema: {
        summary: 'Global secrets, by name (admins); never their values',
        tags: ['secrets'],
        response: { 200: listSchema, ...errorResponses(401, 403) },
      },
    },
    async (request) => {
      const scope = globalScope(request);
      return { items: (await app.store.secrets.list(scopeKey(scope))).map(secretView) };
    },
  );

  app.get<{ Params: { name: string } }>(
    '/api/secrets/:name',
    {
      schema: {
        summary: 'A global secret (never its value) and the last executions given it (admins)',
        tags: ['secrets'],
        params: nameParams,
        response: { 200: detailSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => detail(globalScope(request), request.params.name),
  );

  app.delete<{ Params: { name: string } }>(
    '/api/secrets/:name',
    {
      schema: {
        summary: 'Remove a global secret (admins)',
        tags: ['secrets'],
        params: nameParams,
        response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await remove(request, globalScope(request), request.params.name);
      return reply.code(204).send();
    },
  );
};

export default secretsRoutes;
