// POST /hooks/git/:project_id: the notification `gbcms hook` sends from a repository's
// post-receive hook, signed (X-Gbcms-Signature-256) with the project's webhook secret. The
// answer's `number` is what the hook prints to the pusher. The notification's `delivery` is
// claimed once, so one sent twice starts one execution.
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../../plugins/schemas.ts';
import { gitDeliveryId, interpretGitNotification } from '../../webhooks/git.ts';
import { GBCMS_SIGNATURE_HEADER } from '../../webhooks/signature.ts';
import {
  acceptRawBodies,
  actOnDelivery,
  parsePayload,
  projectParams,
  verifiedProject,
  webhookResponses,
} from './webhook-common.ts';

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
        response: { ...webhookResponses, ...errorResponses(400, 401, 404, 413) },
      },
    },
    async (request, reply) => {
      const { project, body } = await verifiedProject(request, GBCMS_SIGNATURE_HEADER);
      const payload = parsePayload(body, request.headers['content-type']);
      const delivery = gitDeliveryId(payload);
      return actOnDelivery(request, reply, {
        project,
        delivery: delivery === undefined ? undefined : `git:${delivery}`,
        event: 'push',
        decision: interpretGitNotification(payload),
        // The repository the admin registered, not the path the notification names.
        source: { kind: 'project' },
        forge: undefined,
      });
    },
  );
};

export default gitHookRoutes;
