// Creating sessions and their keys. A session key lets whoever holds it create executions in
// that one session and report to them (the spec's unguessable URLs): a notebook needs the
// server's URL and the key, no account. Writers of the project make keys; the project's owner
// (and admins) revoke them. A key lapses 14 days after the session's newest execution started.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import type { Session, SessionKeyInfo } from '../../store/index.ts';
import { manageProject, readProject, requireWrite, writeProject } from '../access.ts';
import { idParams } from '../params.ts';
import { SESSION_NAME } from './external.ts';

const keyProperties = {
  id: { type: 'string' },
  session_id: { type: 'string' },
  prefix: { type: 'string', description: 'the first characters after gbcmsk_, to tell keys apart' },
  created_by: { type: ['string', 'null'] },
  created_at: { type: 'string', format: 'date-time' },
  revoked_at: { type: ['string', 'null'], format: 'date-time' },
  expires_at: {
    type: 'string',
    format: 'date-time',
    description: '14 days after the newest execution of the session started (or the key was made)',
  },
} as const;

const keyInfoSchema = {
  type: 'object',
  required: ['id', 'session_id', 'prefix', 'created_at', 'revoked_at', 'expires_at'],
  properties: keyProperties,
} as const;

const newKeySchema = {
  type: 'object',
  required: [...keyInfoSchema.required, 'key'],
  properties: {
    ...keyProperties,
    key: { type: 'string', description: 'the key itself: shown this once, only its hash is kept' },
  },
} as const;

const sessionSchema = {
  type: 'object',
  required: ['id', 'name', 'project_id', 'created_at'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    project_id: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    key: newKeySchema,
  },
} as const;

/** The session, readable by the caller; 404 otherwise. */
async function readSession(request: FastifyRequest, sessionId: string) {
  const session = await request.server.store.sessions.get(sessionId);
  if (!session) throw errors.notFound('session not found');
  try {
    return { session, access: await readProject(request, session.project_id) };
  } catch {
    throw errors.notFound('session not found');
  }
}

/** A new key for `session`, made by the caller. */
export async function createSessionKey(
  request: FastifyRequest,
  session: Session,
): Promise<SessionKeyInfo & { key: string }> {
  const { key, info } = await request.server.store.sessionKeys.create(session.id, request.actor?.id ?? null);
  request.log.info({ session: session.id, key: info.id, by: request.actor?.id }, 'session key created');
  return { ...info, key };
}

/** Revokes a key of `session`; 404 when the session has no such active key. */
export async function revokeSessionKey(
  request: FastifyRequest,
  session: Session,
  keyId: string,
): Promise<SessionKeyInfo> {
  const { sessionKeys } = request.server.store;
  if (!(await sessionKeys.revoke(session.id, keyId))) throw errors.notFound('no such active session key');
  request.log.info({ session: session.id, key: keyId, by: request.actor?.id }, 'session key revoked');
  const revoked = (await sessionKeys.list(session.id)).find((key) => key.id === keyId);
  if (!revoked) throw errors.notFound('no such active session key');
  return revoked;
}

const sessionKeysRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Params: { id: string }; Body: { name: string; key?: boolean } }>(
    '/api/projects/:id/sessions',
    {
      schema: {
        summary: 'Create a session (or find it by name), optionally with a session key',
        description:
          'A session of that name is created, or the existing one is answered (200). With key: true the answer carries a new session key, shown this once.',
        tags: ['projects', 'sessions'],
        params: idParams,
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: SESSION_NAME,
            key: { type: 'boolean', default: false, description: 'also make a session key' },
          },
        },
        response: { 200: sessionSchema, 201: sessionSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { project } = await writeProject(request, request.params.id);
      const existing = await app.store.sessions.byName(project.id, request.body.name);
      const session = existing ?? (await app.store.sessions.ensure(project.id, request.body.name));
      const key = request.body.key === true ? await createSessionKey(request, session) : undefined;
      return reply.code(existing ? 200 : 201).send({ ...session, ...(key ? { key } : {}) });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/sessions/:id/keys',
    {
      schema: {
        summary:
          'Make a session key: it creates executions in this session and reports to them, nothing else',
        tags: ['sessions'],
        params: idParams,
        response: { 201: newKeySchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      if (!request.actor) throw errors.unauthorized();
      const { session, access } = await readSession(request, request.params.id);
      requireWrite(access);
      return reply.code(201).send(await createSessionKey(request, session));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/sessions/:id/keys',
    {
      schema: {
        summary: "A session's keys, revoked ones included (never the keys themselves)",
        tags: ['sessions'],
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: keyInfoSchema } },
          },
          ...errorResponses(401, 403, 404),
        },
      },
    },
    async (request) => {
      if (!request.actor) throw errors.unauthorized();
      const { session, access } = await readSession(request, request.params.id);
      requireWrite(access);
      return { items: await app.store.sessionKeys.list(session.id) };
    },
  );

  app.post<{ Params: { id: string; key: string } }>(
    '/api/sessions/:id/keys/:key/revoke',
    {
      schema: {
        summary: 'Revoke a session key (the project owner or an admin)',
        tags: ['sessions'],
        params: {
          type: 'object',
          required: ['id', 'key'],
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 64 },
            key: { type: 'string', minLength: 1, maxLength: 64, description: "the key's id" },
          },
        },
        response: { 200: keyInfoSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      if (!request.actor) throw errors.unauthorized();
      const { session } = await readSession(request, request.params.id);
      await manageProject(request, session.project_id);
      return revokeSessionKey(request, session, request.params.key);
    },
  );
};

export default sessionKeysRoutes;
