// POST /hooks/gitlab/:project_id: GitLab webhooks (push, tag push, merge request). GitLab
// signs nothing: X-Gitlab-Token carries the project's webhook secret itself, compared in
// constant time before anything else. X-Gitlab-Event-UUID, when sent, is claimed once, so a
// re-sent delivery starts nothing (X-Gitlab-Webhook-UUID names the hook, not the delivery).
import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { gitlabProject, interpretGitlabEvent } from '../../webhooks/gitlab.ts';
import { asObject, objectAt, stringAt } from '../../webhooks/payload.ts';
import { GITLAB_TOKEN_HEADER, verifySecretToken } from '../../webhooks/signature.ts';
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

const gitlabHookRoutes: FastifyPluginAsync = async (app) => {
  acceptRawBodies(app, app.settings.webhookBodyLimit);

  app.post<{ Params: { project_id: string } }>(
    '/hooks/gitlab/:project_id',
    {
      config: { auth: 'none' },
      schema: {
        summary: 'GitLab webhook (secret token: the project webhook_secret)',
        tags: ['webhooks'],
        params: projectParams,
        response: { ...webhookResponses, ...errorResponses(400, 401, 404, 413) },
      },
    },
    async (request, reply) => {
      const { project, body } = await verifiedProjectBy(
        request,
        // An empty body is refused like a bad token: there is nothing to act on.
        (secret, raw) => raw.length > 0 && verifySecretToken(secret, request.headers[GITLAB_TOKEN_HEADER]),
      );
      const event = singleHeader(request, 'x-gitlab-event');
      if (event === undefined) throw errors.badWebhook('X-Gitlab-Event is missing');
      // Sent by GitLab 15.x and later; older ones get no replay protection.
      const delivery = singleHeader(request, 'x-gitlab-event-uuid');
      const payload = parsePayload(body, request.headers['content-type']);
      const decision = interpretGitlabEvent(event, payload);
      const repo = gitlabProject(payload);
      const base = stringAt(objectAt(asObject(payload), 'project'), 'git_http_url');
      return actOnDelivery(request, reply, {
        project,
        delivery: delivery === undefined ? undefined : `gitlab:${delivery}`,
        event,
        decision,
        source: decision.kind === 'trigger' ? webhookSource(decision.trigger, base) : { kind: 'project' },
        forge: repo === undefined ? undefined : { forge: 'gitlab', repo },
      });
    },
  );
};

export default gitlabHookRoutes;
