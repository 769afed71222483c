// Who works on a project besides its owner. Members start, re-run and terminate executions;
// the owner and admins grant and withdraw that (see server/auth/permissions.ts).
import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { ROLES, type User } from '../../store/index.ts';
import { manageProject, readProject } from '../access.ts';
import { usernameLookup } from './users.ts';

// Anyone who may read the project sees this list (anonymous callers too, on a public one):
// names and roles, no emails.
const memberSchema = {
  type: 'object',
  required: ['id', 'username', 'role'],
  properties: {
    id: { type: 'string' },
    username: { type: 'string' },
    role: { type: 'string', enum: [...ROLES] },
  },
} as const;

function memberView(user: User) {
  return { id: user.id, username: user.username, role: user.role };
}

const memberParams = {
  type: 'object',
  required: ['id', 'username'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, username: usernameLookup },
} as const;

const membersRoutes: FastifyPluginAsync = async (app) => {
  async function existingUser(username: string): Promise<User> {
    const user = await app.store.users.byUsername(username);
    if (!user) throw errors.userNotFound(`no user '${username}'`);
    return user;
  }

  app.get<{ Params: { id: string } }>(
    '/api/projects/:id/members',
    {
      schema: {
        summary: "A project's owner and members",
        tags: ['projects', 'members'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['owner', 'items'],
            properties: {
              owner: { anyOf: [memberSchema, { type: 'null' }] },
              items: { type: 'array', items: memberSchema, description: 'by username' },
            },
          },
          ...errorResponses(401, 404),
        },
      },
    },
    async (request) => {
      const { project } = await readProject(request, request.params.id);
      const [owner, members] = await Promise.all([
        project.owner_id === null ? undefined : app.store.users.get(project.owner_id),
        app.store.projects.members(project.id),
      ]);
      return { owner: owner ? memberView(owner) : null, items: members.map(memberView) };
    },
  );

  app.put<{ Params: { id: string; username: string } }>(
    '/api/projects/:id/members/:username',
    {
      schema: {
        summary: 'Make a user a member of the project (its owner or admins); repeating it is harmless',
        tags: ['projects', 'members'],
        params: memberParams,
        response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { project } = await manageProject(request, request.params.id);
      const user = await existingUser(request.params.username);
      await app.store.projects.addMember(project.id, user.id);
      request.log.info({ project: project.id, user: user.id, by: request.actor?.id }, 'member added');
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { id: string; username: string } }>(
    '/api/projects/:id/members/:username',
    {
      schema: {
        summary: 'Withdraw a membership (its owner or admins)',
        tags: ['projects', 'members'],
        params: memberParams,
        response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { project } = await manageProject(request, request.params.id);
      const user = await existingUser(request.params.username);
      if (!(await app.store.projects.removeMember(project.id, user.id))) throw errors.memberNotFound();
      request.log.info({ project: project.id, user: user.id, by: request.actor?.id }, 'member removed');
      return reply.code(204).send();
    },
  );
};

export default membersRoutes;
