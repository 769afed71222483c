// POST /hooks/git/:project_id: the notification `gbcms hook` sends from a repository's
// post-receive hook, signed (X-Gbcms-Signature-256) with the project's webhook secret. The
// answer's `number` is what the hook prints to the pusher.
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../../plugins/schemas.ts';
import { interpretGitNotification } from '../../webhooks/git.ts';
import { GBCMS_SIGNATURE_HEADER } from '../../webhooks/signature.ts';
import {
  acceptRawBodies,
  parsePayload,
  projectParams,
  startFromWebhook,
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
      const decision = interpretGitNotification(parsePayload(body, request.headers['content-type']));
      if (decision.kind !== 'trigger') {
        const reason = decision.kind === 'ignore' ? decision.reason : 'nothing to do';
        request.log.info({ project: project.id, reason }, 'git notification ignored');
        return { ignored: true, reason };
      }
      // The repository the admin registered, not the path the notification names.
      const started = await startFromWebhook(request, project, decision.trigger, { kind: 'project' });
      return reply.code(202).send(started);
    },
  );
};

export default gitHookRoutes;
