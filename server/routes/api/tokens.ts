// API tokens over HTTP: what `gbcms token create|list|revoke` does on the server's machine.
// Admins make tokens for anyone; a developer only for themselves. A token is in exactly one
// answer, the 201 that made it; listings and logs carry its prefix only.
import type { FastifyPluginAsync } from 'fastify';
import { DISPLAY_PREFIX_LENGTH, TOKEN_PREFIX } from '../../auth/token-crypto.ts';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import type { TokenInfo, User } from '../../store/index.ts';
import { requireActor } from '../access.ts';
import { usernameLookup } from './users.ts';

interface NewTokenBody {
  username?: string;
  name?: string;
}

const DEFAULT_TOKEN_NAME = 'api';

export function tokenView(token: TokenInfo) {
  return {
    prefix: TOKEN_PREFIX + token.prefix,
    name: token.name,
    user: token.username,
    role: token.role,
    created_at: token.created_at,
    last_used_at: token.last_used_at,
    revoked_at: token.revoked_at,
  };
}

const tokensRoutes: FastifyPluginAsync = async (app) => {
  /** The user a request names: the caller when none is named; only admins may name another. */
  async function targetUser(actor: User, username: string | undefined, action: string): Promise<User> {
    if (username === undefined || username === actor.username) return actor;
    // The same answer whether or not that user exists: developers learn nothing about others.
    if (actor.role !== 'admin') throw errors.forbidden(`developers may only ${action} their own tokens`);
    const user = await app.store.users.byUsername(username);
    if (!user) throw errors.userNotFound(`no user '${username}'`);
    return user;
  }

  app.post<{ Body: NewTokenBody }>(
    '/api/tokens',
    {
      schema: {
        summary: 'Make an API token for yourself, or (admins) for any user; it is shown only in this answer',
        tags: ['tokens'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            username: { ...usernameLookup, description: 'whose token; default: the caller' },
            name: {
              type: 'string',
              minLength: 1,
              maxLength: 100,
              pattern: '^\\S(?:[^\\u0000-\\u001f\\u007f]*\\S)?$',
              description: `a label; default '${DEFAULT_TOKEN_NAME}'`,
            },
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['token', 'prefix', 'user', 'name', 'created_at'],
            properties: {
              token: { type: 'string', description: 'Authorization: Bearer <token>; never shown again' },
              prefix: {
                type: 'string',
                description: 'how listings show it; DELETE /api/tokens/:prefix revokes it',
              },
              user: { type: 'string', description: 'username' },
              name: { type: 'string' },
              created_at: { type: 'string', format: 'date-time' },
            },
          },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const user = await targetUser(actor, request.body.username, 'create');
      const { token, record } = await app.store.tokens.create(
        user.id,
        request.body.name ?? DEFAULT_TOKEN_NAME,
      );
      const prefix = TOKEN_PREFIX + record.prefix;
      request.log.info({ prefix, user: user.id, by: actor.id }, 'token created');
      // A secret in the body: no cache along the way may keep it.
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({
        token,
        prefix,
        user: user.username,
        name: record.name,
        created_at: record.created_at,
      });
    },
  );

  app.get<{ Querystring: { username?: string } }>(
    '/api/tokens',
    {
      schema: {
        summary: "The caller's tokens, revoked ones included (admins: everyone's, or ?username=)",
        tags: ['tokens'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { username: usernameLookup },
        },
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: { $ref: 'ApiToken#' } } },
          },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const { username } = request.query;
      const everyone = actor.role === 'admin' && username === undefined;
      const filter = everyone ? {} : { userId: (await targetUser(actor, username, 'list')).id };
      const tokens = await app.store.tokens.list(filter);
      return { items: tokens.map(tokenView) };
    },
  );

  app.delete<{ Params: { prefix: string } }>(
    '/api/tokens/:prefix',
    {
      schema: {
        summary: 'Revoke a token by its prefix (your own; admins: any)',
        tags: ['tokens'],
        params: {
          type: 'object',
          required: ['prefix'],
          properties: {
            prefix: {
              type: 'string',
              pattern: `^(?:${TOKEN_PREFIX})?[A-Za-z0-9_-]{${DISPLAY_PREFIX_LENGTH}}$`,
              description: 'as listings show it, with or without `gbcms_`',
            },
          },
        },
        response: { 204: { type: 'null' }, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      // The full display prefix, so this is an exact match; someone else's token is not found.
      const visible = (await app.store.tokens.findByPrefix(request.params.prefix)).filter(
        (token) => actor.role === 'admin' || token.user_id === actor.id,
      );
      if (visible.length === 0) throw errors.tokenNotFound();
      const active = visible.filter((token) => token.revoked_at === null);
      if (active.length > 1) throw errors.tokenAmbiguous();
      const target = active[0];
      // Already revoked: the state asked for holds, as for any repeated DELETE.
      if (target !== undefined && (await app.store.tokens.revoke(target.id))) {
        request.log.info(
          { prefix: TOKEN_PREFIX + target.prefix, user: target.user_id, by: actor.id },
          'token revoked',
        );
      }
      return reply.code(204).send();
    },
  );
};

export default tokensRoutes;
