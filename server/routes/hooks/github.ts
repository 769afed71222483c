// POST /hooks/github/:project_id: GitHub webhooks (push, pull_request, ping). The signature
// (X-Hub-Signature-256, the project's webhook secret) is checked on the raw bytes before
// anything else; X-GitHub-Delivery is claimed once, so a re-sent delivery starts nothing.
import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.ts';
import type { ExecutionSource } from '../../executions/types.ts';
import { checkRepoSource } from '../../git/url-policy.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { githubRepository, interpretGithubEvent } from '../../webhooks/github.ts';
import { asObject, objectAt, stringAt } from '../../webhooks/payload.ts';
import { GITHUB_SIGNATURE_HEADER } from '../../webhooks/signature.ts';
import type { WebhookTrigger } from '../../webhooks/types.ts';
import {
  acceptRawBodies,
  parsePayload,
  projectParams,
  singleHeader,
  startFromWebhook,
  verifiedProject,
  type WebhookStart,
  webhookRefusal,
  webhookResponses,
} from './webhook-common.ts';

const githubHookRoutes: FastifyPluginAsync = async (app) => {
  acceptRawBodies(app, app.settings.webhookBodyLimit);

  app.post<{ Params: { project_id: string } }>(
    '/hooks/github/:project_id',
    {
      config: { auth: 'none' },
      schema: {
        summary: 'GitHub webhook (content type application/json, secret: the project webhook_secret)',
        tags: ['webhooks'],
        params: projectParams,
        response: { ...webhookResponses, ...errorResponses(400, 401, 404, 413) },
      },
    },
    async (request, reply) => {
      const { project, body } = await verifiedProject(request, GITHUB_SIGNATURE_HEADER);
      const event = singleHeader(request, 'x-github-event');
      const delivery = singleHeader(request, 'x-github-delivery');
      if (event === undefined) throw errors.badWebhook('X-GitHub-Event is missing');
      if (delivery === undefined) throw errors.badWebhook('X-GitHub-Delivery is missing');
      const payload = parsePayload(body, request.headers['content-type']);

      if (!(await app.store.deliveries.claim(delivery, project.id, event))) {
        request.log.info({ project: project.id, delivery }, 'webhook delivery seen before: ignored');
        return { duplicate: true };
      }
      const decision = interpretGithubEvent(event, payload);
      if (decision.kind === 'ping') return { pong: true };
      if (decision.kind === 'ignore') {
        request.log.info({ project: project.id, delivery, reason: decision.reason }, 'webhook ignored');
        return { ignored: true, reason: decision.reason };
      }
      const refusal = webhookRefusal(project, decision.trigger);
      if (refusal !== undefined) {
        request.log.info(
          { project: project.id, delivery, reason: refusal },
          'webhook refused by project setting',
        );
        return { ignored: true, reason: refusal };
      }
      const repo = githubRepository(payload);
      let started: WebhookStart;
      try {
        started = await startFromWebhook(
          request,
          project,
          decision.trigger,
          githubSource(decision.trigger, payload),
          repo === undefined ? undefined : { forge: 'github', repo },
        );
      } catch (error) {
        // Nothing started (refused source, shutting down): GitHub's redelivery must get a new chance.
        await app.store.deliveries.release(delivery);
        throw error;
      }
      await app.store.deliveries.attach(delivery, started.execution_id);
      return reply.code(202).send(started);
    },
  );
};

/**
 * Pushes build from the project's registered source (it has the credentials that work, and it
 * may be a local mirror); so do pull requests from a branch of the same repository. A pull
 * request from a fork builds from the fork's clone URL when the URL policy accepts it.
 */
export function githubSource(trigger: WebhookTrigger, payload: unknown): ExecutionSource {
  if (trigger.event !== 'pull_request' || trigger.cloneUrl === undefined) return { kind: 'project' };
  const base = stringAt(objectAt(asObject(payload), 'repository'), 'clone_url');
  if (base === trigger.cloneUrl) return { kind: 'project' };
  const fork = checkRepoSource(trigger.cloneUrl, { allowLocalPaths: false });
  if (!fork.ok) return { kind: 'project' };
  return { kind: 'git', repo: fork.value, commit: trigger.commit, ref: `refs/heads/${trigger.branch}` };
}

export default githubHookRoutes;
