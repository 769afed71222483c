// Users: who the caller is, and the accounts admins make (a token for one is POST /api/tokens).
import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { NameTakenError, ROLES, type Role } from '../../store/index.ts';
import { requireActor } from '../access.ts';

interface NewUserBody {
  username: string;
  email?: string;
  role: Role;
}

/**
 * What a new username may look like: it ends up in URLs (`/members/:username`), pages and
 * logs. Users the CLI made earlier may have other names; routes that look users up accept any.
 */
export const USERNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

/** A username in a path or a query: anything that could name an existing user. */
export const usernameLookup = { type: 'string', minLength: 1, maxLength: 255 } as const;

const usersRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/api/me',
    {
      schema: {
        summary: 'The user behind the API token',
        tags: ['users'],
        response: { 200: { $ref: 'User#' }, ...errorResponses(401) },
      },
    },
    async (request) => requireActor(request),
  );

  app.post<{ Body: NewUserBody }>(
    '/api/users',
    {
      schema: {
        summary: 'Create a user (admins only); give them a token with POST /api/tokens',
        tags: ['users'],
        body: {
          type: 'object',
          required: ['username', 'role'],
          additionalProperties: false,
          properties: {
            username: { type: 'string', minLength: 1, maxLength: 64, pattern: USERNAME_PATTERN },
            email: { type: 'string', format: 'email', maxLength: 254 },
            role: { type: 'string', enum: [...ROLES] },
          },
        },
        response: { 201: { $ref: 'User#' }, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      if (actor.role !== 'admin') throw errors.forbidden('only admins create users');
      const { username, email, role } = request.body;
      if (await app.store.users.byUsername(username)) throw errors.userExists();
      let user: Awaited<ReturnType<typeof app.store.users.create>>;
      try {
        user = await app.store.users.create({ username, role, email: email ?? null });
      } catch (error) {
        // Two admins racing for one name: the unique index decides.
        if (error instanceof NameTakenError) throw errors.userExists();
        throw error;
      }
      request.log.info({ user: user.id, username, role, by: actor.id }, 'user created');
      return reply.code(201).send(user);
    },
  );

  app.get(
    '/api/users',
    {
      schema: {
        summary: 'All users, by username (admins only)',
        tags: ['users'],
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: { $ref: 'User#' } } },
          },
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      if (actor.role !== 'admin') throw errors.forbidden('only admins list users');
      return { items: await app.store.users.list() };
    },
  );
};

export default usersRoutes;
