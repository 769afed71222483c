// POST /hooks/gitea/:project_id: Gitea and Forgejo webhooks (push, pull_request). The body's
// signature (X-Gitea-Signature or X-Forgejo-Signature: hex HMAC-SHA256 with the project's
// webhook secret) is checked before anything else; X-Gitea-Delivery / X-Forgejo-Delivery is
// claimed once, so a re-sent delivery starts nothing.
import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { giteaRepository, interpretGiteaEvent } from '../../webhooks/gitea.ts';
import { asObject, objectAt, stringAt } from '../../webhooks/payload.ts';
import {
  FORGEJO_SIGNATURE_HEADER,
  GITEA_SIGNATURE_HEADER,
  verifyHexSignature,
} from '../../webhooks/signature.ts';
import {
  acceptRawBodies,
  actOnDelivery,
  parsePayload,
  projectParams,
  singleHeader,
  verifiedProjectBy,
  webhookResponses,
  webhookSource,
} from './webhook-common.ts';

const giteaHookRoutes: FastifyPluginAsync = async (app) => {
  acceptRawBodies(app, app.settings.webhookBodyLimit);

  app.post<{ Params: { project_id: string } }>(
    '/hooks/gitea/:project_id',
    {
      config: { auth: 'none' },
      schema: {
        summary: 'Gitea or Forgejo webhook (POST, application/json, secret: the project webhook_secret)',
        tags: ['webhooks'],
        params: projectParams,
        response: { ...webhookResponses, ...errorResponses(400, 401, 404, 413) },
      },
    },
    async (request, reply) => {
      // Forgejo sends both its own headers and Gitea's; either signature will do.
      const { project, body } = await verifiedProjectBy(
        request,
        (secret, raw) =>
          verifyHexSignature(secret, raw, request.headers[GITEA_SIGNATURE_HEADER]) ||
          verifyHexSignature(secret, raw, request.headers[FORGEJO_SIGNATURE_HEADER]),
      );
      const event = singleHeader(request, 'x-gitea-event') ?? singleHeader(request, 'x-forgejo-event');
      const delivery =
        singleHeader(request, 'x-gitea-delivery') ?? singleHeader(request, 'x-forgejo-delivery');
      if (event === undefined) throw errors.badWebhook('X-Gitea-Event is missing');
      if (delivery === undefined) throw errors.badWebhook('X-Gitea-Delivery is missing');
      const payload = parsePayload(body, request.headers['content-type']);
      const decision = interpretGiteaEvent(event, payload);
      const repo = giteaRepository(payload);
      const base = stringAt(objectAt(asObject(payload), 'repository'), 'clone_url');
      return actOnDelivery(request, reply, {
        project,
        delivery: `gitea:${delivery}`,
        event,
        decision,
        source: decision.kind === 'trigger' ? webhookSource(decision.trigger, base) : { kind: 'project' },
        forge: repo === undefined ? undefined : { forge: 'gitea', repo },
      });
    },
  );
};

export default giteaHookRoutes;
