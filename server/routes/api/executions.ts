// Executions: start, look at, terminate, re-run, approve or decline one that is blocked, and
// approve or decline a step waiting at its approval gate.
import type { FastifyPluginAsync } from 'fastify';
import { isFinished } from '../../../engine/status.ts';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { readExecution, requireActor, sessionKeyExecution, writeExecution, writeProject } from '../access.ts';
import { approveExecution, declineExecution } from '../approvals.ts';
import { mapExecutionErrors } from '../execution-errors.ts';
import { links } from '../links.ts';
import { idParams, stepParams } from '../params.ts';
import { manualStart, rerunRequest } from '../start-requests.ts';
import { decideStepGate } from '../step-approvals.ts';
import {
  type ExternalStartBody,
  externalOnlyFields,
  externalStartProperties,
  minHeartbeatTimeout,
  startExternal,
} from './external.ts';
import { artifactView, executionView, secretUseView, stepView } from './views.ts';

const executionsRoutes: FastifyPluginAsync = async (app) => {
  const urls = links(app.settings.publicUrl);

  app.post<{ Body: ExternalStartBody }>(
    '/api/executions',
    {
      config: { sessionKey: true },
      schema: {
        summary: 'Start an execution of a project, or create an external one (external: true)',
        description:
          "With a session key instead of a token, only `external: true` is allowed: the execution goes in the key's session, and project_id and session may be left out.",
        tags: ['executions'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            project_id: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              description: 'required, except with a session key',
            },
            ref: {
              type: 'string',
              minLength: 1,
              maxLength: 1024,
              description: 'branch, refs/heads/X or refs/tags/X',
            },
            commit: { type: 'string', pattern: '^(?:[0-9a-f]{40}|[0-9a-f]{64})$' },
            ...externalStartProperties(minHeartbeatTimeout(app)),
          },
        },
        response: { 201: { $ref: 'Execution#' }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      if (request.body.external === true) return startExternal(request, reply);
      if (request.sessionKey) throw errors.unauthorized('a session key only creates external executions');
      const externalOnly = externalOnlyFields(request.body);
      if (externalOnly.length > 0)
        throw errors.validation(`${externalOnly.join(', ')}: only with external: true`);
      const actor = requireActor(request);
      if (request.body.project_id === undefined) throw errors.validation('project_id is required');
      const { project } = await writeProject(request, request.body.project_id);
      const plan = manualStart(project, request.body);
      const execution = await mapExecutionErrors(
        app.executions.start({ project, ...plan, requestedBy: actor.id }),
      );
      return reply.code(201).send(executionView(execution, urls));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/executions/:id',
    {
      // A session key reads the executions of its session (what creating one answered already).
      config: { sessionKey: true },
      schema: {
        summary: 'An execution with its steps and artifacts',
        tags: ['executions'],
        params: idParams,
        response: { 200: { $ref: 'ExecutionDetail#' }, ...errorResponses(401, 404) },
      },
    },
    async (request) => {
      const execution = request.sessionKey
        ? await sessionKeyExecution(request, request.params.id)
        : (await readExecution(request, request.params.id)).execution;
      const [steps, artifacts, secrets] = await Promise.all([
        app.store.steps.list(execution.id),
        app.store.artifacts.list(execution.id),
        app.store.secrets.usedBy(execution.id),
      ]);
      return {
        ...executionView(execution, urls),
        steps: steps.map((step) => stepView(execution.id, step, urls)),
        artifacts: artifacts.map((artifact) => artifactView(execution.id, artifact, urls)),
        secrets: secrets.map(secretUseView),
      };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/executions/:id/terminate',
    {
      schema: {
        summary: 'Terminate a blocked, pending or running execution',
        tags: ['executions'],
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['status', 'message', 'execution_id', 'terminated_at'],
            properties: {
              status: { type: 'string', enum: ['success'] },
              message: { type: 'string' },
              execution_id: { type: 'string' },
              terminated_at: { type: 'string', format: 'date-time' },
            },
          },
          ...errorResponses(401, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const { execution } = await writeExecution(request, request.params.id);
      if (isFinished(execution.status)) throw errors.executionEnded();
      const result = await app.executions.terminate(execution.id);
      if (!result) throw errors.executionEnded();
      request.log.info({ execution: execution.id, by: request.actor?.id }, 'execution terminated');
      return {
        status: 'success',
        message: 'Execution terminated successfully.',
        execution_id: result.execution_id,
        terminated_at: result.terminated_at,
      };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/executions/:id/approve',
    {
      schema: {
        summary: 'Approve a blocked execution (a pull request from a fork): it is queued and runs',
        tags: ['executions'],
        params: idParams,
        response: { 200: { $ref: 'Execution#' }, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request) => executionView(await approveExecution(request, request.params.id), urls),
  );

  app.post<{ Params: { id: string } }>(
    '/api/executions/:id/decline',
    {
      schema: {
        summary: 'Decline a blocked execution: it ends killed, nothing of it runs',
        tags: ['executions'],
        params: idParams,
        response: { 200: { $ref: 'Execution#' }, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request) => executionView(await declineExecution(request, request.params.id), urls),
  );

  for (const [action, approved] of [
    ['approve', true],
    ['decline', false],
  ] as const) {
    app.post<{ Params: { id: string; name: string }; Body: { reason?: string } | undefined }>(
      `/api/executions/:id/steps/:name/${action}`,
      {
        schema: {
          summary: approved
            ? 'Approve a step waiting at its approval gate: it runs'
            : 'Decline a step waiting at its approval gate: it is skipped, and its dependents follow the usual rules',
          tags: ['executions'],
          params: stepParams,
          ...(approved
            ? {}
            : {
                body: {
                  type: ['object', 'null'],
                  additionalProperties: false,
                  properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
                },
              }),
          response: { 200: { $ref: 'Step#' }, ...errorResponses(401, 403, 404, 409) },
        },
      },
      async (request) => {
        const reason = approved ? undefined : request.body?.reason;
        const { executionId, step } = await decideStepGate(request, request.params.id, request.params.name, {
          approved,
          ...(reason ? { reason } : {}),
        });
        return stepView(executionId, step, urls);
      },
    );
  }

  app.post<{ Params: { id: string } }>(
    '/api/executions/:id/rerun',
    {
      schema: {
        summary: 'Start a new execution with the same trigger (and commit)',
        tags: ['executions'],
        params: idParams,
        response: { 201: { $ref: 'Execution#' }, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { execution: original, access } = await writeExecution(request, request.params.id);
      const execution = await mapExecutionErrors(
        app.executions.start(
          rerunRequest(original, access.project, actor.id, await app.store.forges.get(original.id)),
        ),
      );
      return reply.code(201).send(executionView(execution, urls));
    },
  );
};

export default executionsRoutes;
