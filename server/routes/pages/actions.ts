// The pages' buttons: plain form posts, authenticated by the page cookie on same-origin
// requests only, answered with a redirect to the page that shows the result.
import type { FastifyPluginAsync } from 'fastify';
import { isFinished } from '../../../engine/status.ts';
import { errors } from '../../errors.ts';
import { requireActor, writeExecution, writeProject } from '../access.ts';
import { mapExecutionErrors } from '../execution-errors.ts';
import { manualStart, rerunRequest } from '../start-requests.ts';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
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

  app.post<{ Params: { id: string } }>('/executions/:id/rerun', formRoute, async (request, reply) => {
    const actor = requireActor(request);
    const { execution: original, access } = await writeExecution(request, request.params.id);
    const execution = await mapExecutionErrors(
      app.executions.start(rerunRequest(original, access.project, actor.id)),
    );
    return reply.redirect(executionPage(execution.id), 303);
  });

  app.post<{ Params: { id: string } }>('/projects/:id/run', formRoute, async (request, reply) => {
    const actor = requireActor(request);
    const { project } = await writeProject(request, request.params.id);
    const execution = await mapExecutionErrors(
      app.executions.start({ project, ...manualStart(project, {}), requestedBy: actor.id }),
    );
    return reply.redirect(executionPage(execution.id), 303);
  });
};

export default actionRoutes;
