// POST /hooks/git/:project_id: the notification `gbcms hook` sends from a repository's
// post-receive hook, signed (X-Gbcms-Signature-256) with the project's webhook secret. The
// answer's `number` is what the hook prints to the pusher. The notification's `delivery` is
// claimed once, so one sent twice starts one execution.
import type { FastifyPluginAsync } from 'fastify';
import { MAX_PUSH_WAIT_S, PUSH_WAIT_HEADER, type PushAnswer } from '../../git/push-answer.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { gitDeliveryId, interpretGitNotification } from '../../webhooks/git.ts';
import { GBCMS_SIGNATURE_HEADER } from '../../webhooks/signature.ts';
import { awaitPlanCheck } from './plan-check.ts';
import {
  acceptRawBodies,
  actOnDelivery,
  parsePayload,
  projectParams,
  verifiedProject,
  webhookResponses,
} from './webhook-common.ts';

/** The hook may ask to hear whether the pipeline file passed (see git/push-answer.ts). */
const gitHookResponses = {
  ...webhookResponses,
  202: {
    type: 'object',
    required: ['execution_id', 'number'],
    properties: {
      execution_id: { type: 'string' },
      number: { type: 'integer' },
      status: {
        type: 'string',
        description: `with ${PUSH_WAIT_HEADER}: the status once it left pending, if it did in time`,
      },
      reason: { type: ['string', 'null'] },
    },
  },
} as const;

function waitSeconds(header: string | string[] | undefined): number {
  const value = typeof header === 'string' && /^\d{1,2}$/.test(header) ? Number(header) : 0;
  return Math.min(value, MAX_PUSH_WAIT_S);
}

const gitHookRoutes: FastifyPluginAsync = async (app) => {
  acceptRawBodies(app, app.settings.webhookBodyLimit);

  app.post<{ Params: { project_id: string } }>(
    '/hooks/git/:project_id',
    {
      config: { auth: 'none' },
      schema: {
        summary: 'Push notification from the gbcms post-receive hook',
        tags: ['webhooks'],
        params: projectParams,
        response: { ...gitHookResponses, ...errorResponses(400, 401, 404, 413) },
      },
    },
    async (request, reply) => {
      const { project, body } = await verifiedProject(request, GBCMS_SIGNATURE_HEADER);
      const payload = parsePayload(body, request.headers['content-type']);
      const delivery = gitDeliveryId(payload);
      const waitS = waitSeconds(request.headers[PUSH_WAIT_HEADER]);
      return actOnDelivery(request, reply, {
        project,
        delivery: delivery === undefined ? undefined : `git:${delivery}`,
        event: 'push',
        decision: interpretGitNotification(payload),
        // The repository the admin registered, not the path the notification names.
        source: { kind: 'project' },
        // A mirror's commits are its forge repository's: statuses go there when the project says so.
        forge: (await app.store.statusSettings.get(project.id)).git_hook_forge ?? undefined,
        // The hook may wait to tell the pusher whether the pipeline file passed.
        answer: async (started): Promise<PushAnswer> => {
          if (waitS === 0) return started;
          return {
            ...started,
            ...(await awaitPlanCheck(app.executions, started.execution_id, waitS * 1000)),
          };
        },
      });
    },
  );
};

export default gitHookRoutes;
