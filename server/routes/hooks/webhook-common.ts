// What the webhook routes share: the raw body (signatures cover the exact bytes), the
// signature check against the project's secret, and starting the execution a delivery asks for.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Trigger } from '../../../engine/plan.ts';
import { errors } from '../../errors.ts';
import type { ExecutionSource } from '../../executions/types.ts';
import { checkRepoSource } from '../../git/url-policy.ts';
import { forkAdmission } from '../../projects/fork-policy.ts';
import type { ForgeTarget, Project } from '../../store/index.ts';
import { verifySignature } from '../../webhooks/signature.ts';
import type { WebhookDecision, WebhookTrigger } from '../../webhooks/types.ts';
import { mapExecutionErrors } from '../execution-errors.ts';

/**
 * In this plugin's context only: every body arrives as the Buffer received, whatever its
 * content type, up to `limit` bytes (413 beyond, before the handler runs).
 */
export function acceptRawBodies(app: FastifyInstance, limit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_request, body, done) =>
    done(null, body),
  );
}

export const projectParams = {
  type: 'object',
  required: ['project_id'],
  properties: { project_id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const webhookResponses = {
  200: {
    type: 'object',
    description: 'nothing started: a ping, a repeated delivery, or an event that starts nothing',
    properties: {
      pong: { type: 'boolean' },
      duplicate: { type: 'boolean' },
      ignored: { type: 'boolean' },
      reason: { type: 'string' },
    },
  },
  202: {
    type: 'object',
    required: ['execution_id', 'number'],
    properties: {
      execution_id: { type: 'string' },
      number: { type: 'integer' },
      status: {
        type: 'string',
        enum: ['blocked'],
        description: 'only for a pull request from a fork that waits for approval',
      },
    },
  },
} as const;

/**
 * The project, once the body's signature is checked with its secret: nothing else about the
 * request is looked at before. Unknown project 404, bad or missing signature 401.
 */
export function verifiedProject(
  request: FastifyRequest<{ Params: { project_id: string } }>,
  signatureHeader: string,
): Promise<{ project: Project; body: Buffer }> {
  return verifiedProjectBy(request, (secret, body) =>
    verifySignature(secret, body, request.headers[signatureHeader]),
  );
}

/** verifiedProject with the forge's own check of the request against the project's secret. */
export async function verifiedProjectBy(
  request: FastifyRequest<{ Params: { project_id: string } }>,
  verify: (secret: string, body: Buffer) => boolean | Promise<boolean>,
): Promise<{ project: Project; body: Buffer }> {
  const project = await request.server.store.projects.get(request.params.project_id);
  if (!project) throw errors.projectNotFound();
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  if (!(await verify(project.webhook_secret, body))) {
    request.log.warn({ project: project.id }, 'webhook refused: bad or missing signature');
    throw errors.badSignature();
  }
  return { project, body };
}

/** JSON, or GitHub's form encoding (`payload=<json>`). */
export function parsePayload(body: Buffer, contentType: string | undefined): unknown {
  let text = body.toString('utf8');
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    text = new URLSearchParams(text).get('payload') ?? '';
  }
  try {
    return JSON.parse(text);
  } catch {
    throw errors.invalidJson('the webhook body is not JSON');
  }
}

/** The engine's trigger: the webhook's without what only the server uses. */
export function engineTrigger(trigger: WebhookTrigger): Trigger {
  const { message: _m, cloneUrl: _c, prNumber: _p, ...rest } = trigger;
  return rest;
}

export interface WebhookStart {
  execution_id: string;
  number: number;
  /** Only for a fork's pull request that waits for approval: `blocked`. */
  status?: 'blocked';
}

/**
 * Why the project starts nothing for this trigger (a fork's pull request where forks never
 * run), for the 200 answer; undefined when it starts something.
 */
export function webhookRefusal(project: Project, trigger: WebhookTrigger): string | undefined {
  const admission = forkAdmission(project.fork_pull_requests, trigger);
  return admission.kind === 'refuse' ? admission.reason : undefined;
}

export async function startFromWebhook(
  request: FastifyRequest,
  project: Project,
  trigger: WebhookTrigger,
  source: ExecutionSource,
  forge?: ForgeTarget,
): Promise<WebhookStart> {
  const execution = await mapExecutionErrors(
    request.server.executions.start({
      project,
      trigger: engineTrigger(trigger),
      source,
      ...(trigger.message !== undefined ? { message: trigger.message } : {}),
      ...(forge ? { forge } : {}),
      ...(forkAdmission(project.fork_pull_requests, trigger).kind === 'approve'
        ? { awaitApproval: true }
        : {}),
    }),
  );
  request.log.info(
    {
      project: project.id,
      execution: execution.id,
      number: execution.number,
      event: trigger.event,
      status: execution.status,
    },
    'webhook started an execution',
  );
  return {
    execution_id: execution.id,
    number: execution.number,
    ...(execution.status === 'blocked' ? { status: 'blocked' as const } : {}),
  };
}

/** A single header's value; undefined when missing, repeated, empty or unreasonably long. */
export function singleHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (typeof value !== 'string' || value === '' || value.length > 200) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  return /[\u0000-\u001f\u007f]/.test(value) ? undefined : value;
}

/**
 * Pushes and pull requests from the base repository build from the project's registered source
 * (its credentials work, it may be a local mirror); a pull request from a fork builds from the
 * fork's clone URL when the URL policy accepts it.
 */
export function webhookSource(trigger: WebhookTrigger, baseCloneUrl: string | undefined): ExecutionSource {
  if (trigger.event !== 'pull_request' || trigger.cloneUrl === undefined) return { kind: 'project' };
  if (baseCloneUrl === trigger.cloneUrl) return { kind: 'project' };
  const fork = checkRepoSource(trigger.cloneUrl, { allowLocalPaths: false });
  if (!fork.ok) return { kind: 'project' };
  return { kind: 'git', repo: fork.value, commit: trigger.commit, ref: `refs/heads/${trigger.branch}` };
}

export interface VerifiedDelivery {
  project: Project;
  /** The forge's delivery id, prefixed with the forge (`gitea:<uuid>`); undefined when it sent none. */
  delivery: string | undefined;
  event: string;
  decision: WebhookDecision;
  source: ExecutionSource;
  forge: ForgeTarget | undefined;
  /** What the 202 answer says beyond the execution's id and number; default nothing more. */
  answer?: (started: WebhookStart) => Promise<object>;
}

/**
 * What every forge route does once the request is verified and interpreted: a delivery id seen
 * before starts nothing; a trigger starts an execution (202), the rest answer 200.
 */
export async function actOnDelivery(
  request: FastifyRequest,
  reply: FastifyReply,
  d: VerifiedDelivery,
): Promise<unknown> {
  const { deliveries } = request.server.store;
  const { project, delivery, decision } = d;
  if (delivery !== undefined && !(await deliveries.claim(delivery, project.id, d.event))) {
    request.log.info({ project: project.id, delivery }, 'webhook delivery seen before: ignored');
    return { duplicate: true };
  }
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
  let started: WebhookStart;
  try {
    started = await startFromWebhook(request, project, decision.trigger, d.source, d.forge);
  } catch (error) {
    // Nothing started: the forge's redelivery must get a new chance.
    if (delivery !== undefined) await deliveries.release(delivery);
    throw error;
  }
  if (delivery !== undefined) await deliveries.attach(delivery, started.execution_id);
  return reply.code(202).send(d.answer ? await d.answer(started) : started);
}
