// The pages' buttons: plain form posts, authenticated by the page cookie on same-origin
// requests only, answered with a redirect to the page that shows the result.
import type { FastifyPluginAsync } from 'fastify';
import { isFinished } from '../../../engine/status.ts';
import { errors } from '../../errors.ts';
import { addSchedule } from '../../schedules/create.ts';
import { FORK_PULL_REQUEST_POLICIES, type ForkPullRequestPolicy } from '../../store/index.ts';
import { manageProject, requireActor, writeExecution, writeProject } from '../access.ts';
import { scheduleInputHttpError } from '../api/schedules.ts';
import { approveExecution, declineExecution } from '../approvals.ts';
import { mapExecutionErrors } from '../execution-errors.ts';
import { idParams, stepParams } from '../params.ts';
import { rerunExecution } from '../rerun.ts';
import { manualStart } from '../start-requests.ts';
import { decideStepGate } from '../step-approvals.ts';

// Empty optional fields mean "the default", as leaving them out of the API's body does.
const scheduleForm = {
  type: 'object',
  required: ['cron'],
  properties: {
    cron: { type: 'string', maxLength: 200 },
    branch: { type: 'string', maxLength: 255 },
    name: { type: 'string', maxLength: 100 },
    timezone: { type: 'string', maxLength: 64 },
  },
} as const;
const settingsForm = {
  type: 'object',
  required: ['fork_pull_requests'],
  properties: { fork_pull_requests: { type: 'string', enum: [...FORK_PULL_REQUEST_POLICIES] } },
} as const;
const formRoute = { config: { html: true, auth: 'form' as const }, schema: { hide: true, params: idParams } };

const actionRoutes: FastifyPluginAsync = async (app) => {
  const executionPage = (id: string) => `/executions/${encodeURIComponent(id)}`;

  app.post<{ Params: { id: string } }>('/executions/:id/terminate', formRoute, async (request, reply) => {
    const { execution } = await writeExecution(request, request.params.id);
    if (isFinished(execution.status)) throw errors.executionEnded();
    await app.executions.terminate(execution.id);
    return reply.redirect(executionPage(execution.id), 303);
  });

  app.post<{ Params: { id: string } }>('/executions/:id/approve', formRoute, async (request, reply) => {
    const execution = await approveExecution(request, request.params.id);
    return reply.redirect(executionPage(execution.id), 303);
  });

  app.post<{ Params: { id: string } }>('/executions/:id/decline', formRoute, async (request, reply) => {
    const execution = await declineExecution(request, request.params.id);
    return reply.redirect(executionPage(execution.id), 303);
  });

  for (const [action, approved] of [
    ['approve', true],
    ['decline', false],
  ] as const) {
    app.post<{ Params: { id: string; name: string } }>(
      `/executions/:id/steps/:name/${action}`,
      { ...formRoute, schema: { hide: true, params: stepParams } },
      async (request, reply) => {
        const { executionId } = await decideStepGate(request, request.params.id, request.params.name, {
          approved,
        });
        return reply.redirect(executionPage(executionId), 303);
      },
    );
  }

  app.post<{ Params: { id: string }; Body: { from_failed?: string } }>(
    '/executions/:id/rerun',
    formRoute,
    async (request, reply) => {
      // The "Re-run failed steps" button sends from_failed=1.
      const fromFailed = Boolean(request.body?.from_failed);
      const execution = await rerunExecution(request, request.params.id, { fromFailed });
      return reply.redirect(executionPage(execution.id), 303);
    },
  );

  app.post<{ Params: { id: string } }>('/projects/:id/run', formRoute, async (request, reply) => {
    const actor = requireActor(request);
    const { project } = await writeProject(request, request.params.id);
    const execution = await mapExecutionErrors(
      app.executions.start({ project, ...manualStart(project, {}), requestedBy: actor.id }),
    );
    return reply.redirect(executionPage(execution.id), 303);
  });

  app.post<{ Params: { id: string }; Body: { fork_pull_requests: ForkPullRequestPolicy } }>(
    '/projects/:id/settings',
    { ...formRoute, schema: { ...formRoute.schema, body: settingsForm } },
    async (request, reply) => {
      const { project } = await manageProject(request, request.params.id);
      await app.store.projects.update(project.id, { fork_pull_requests: request.body.fork_pull_requests });
      request.log.info({ project: project.id, by: request.actor?.id }, 'project settings changed');
      return reply.redirect(`/projects/${encodeURIComponent(project.id)}#settings`, 303);
    },
  );

  const schedulesOf = (projectId: string) => `/projects/${encodeURIComponent(projectId)}#schedules`;

  app.post<{
    Params: { id: string };
    Body: { cron: string; branch?: string; name?: string; timezone?: string };
  }>(
    '/projects/:id/schedules',
    { ...formRoute, schema: { ...formRoute.schema, body: scheduleForm } },
    async (request, reply) => {
      const actor = requireActor(request);
      const { project } = await manageProject(request, request.params.id);
      const { cron, branch, name, timezone } = request.body;
      try {
        await addSchedule(
          app.store,
          project,
          { cron, branch, name, timezone, createdBy: actor.id },
          new Date(),
        );
      } catch (error) {
        throw scheduleInputHttpError(error);
      }
      return reply.redirect(schedulesOf(project.id), 303);
    },
  );

  app.post<{ Params: { id: string; schedule_id: string } }>(
    '/projects/:id/schedules/:schedule_id/delete',
    {
      ...formRoute,
      schema: {
        hide: true,
        params: {
          type: 'object',
          required: ['id', 'schedule_id'],
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 64 },
            schedule_id: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
      },
    },
    async (request, reply) => {
      const { project } = await manageProject(request, request.params.id);
      if (!(await app.store.schedules.remove(project.id, request.params.schedule_id))) {
        throw errors.scheduleNotFound();
      }
      return reply.redirect(schedulesOf(project.id), 303);
    },
  );
};

export default actionRoutes;
