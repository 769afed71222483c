// The runner endpoints: what `gbcms runner` calls, with a runner token and nothing else (auth
// mode 'runner'). A runner claims executions (a long poll), heartbeats its leases, downloads an
// execution's source, waits at its approval gates (a long poll), and sends its events,
// artifacts and end. Every write names the execution and is refused unless this runner holds
// its lease; event batches carry their position, so a retried batch is taken once.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { workspaceRelative } from '../../../engine/plan.ts';
import { FINISHED_STATUSES } from '../../../engine/status.ts';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import type {
  ClaimRequest,
  EventBatch,
  FinishRequest,
  GateRequest,
  HeartbeatRequest,
} from '../../runners/protocol.ts';
import { EventGapError } from '../../runners/remote-run.ts';
import { sourceArchive } from '../../runners/source-archive.ts';
import type { HandedLease } from '../../runners/work-queue.ts';
import type { Runner } from '../../store/index.ts';
import { idParams } from '../params.ts';

/** Event batches are cut well below this by runners; a step's chatty second fits many times. */
const EVENTS_BODY_LIMIT = 16 * 1024 * 1024;
const LABEL = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' } as const;
const EVENT_TYPES = ['run', 'step', 'log', 'notice', 'artifact', 'environment', 'cache', 'report'];

function runnerOf(request: FastifyRequest): Runner {
  if (!request.runner) throw errors.unauthorized();
  return request.runner;
}

const runnerRoutes: FastifyPluginAsync = async (app) => {
  const config = { auth: 'runner' as const };
  // Artifacts come as raw bytes, streamed to their file.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  app.post<{ Body: ClaimRequest }>(
    '/api/runner/claim',
    {
      config,
      schema: {
        summary: 'Claim executions to run (waits up to 25 s for one)',
        tags: ['runners'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['capacity', 'version', 'backend'],
          properties: {
            capacity: { type: 'integer', minimum: 1, maximum: 1000 },
            slots: { type: 'integer', minimum: 1, maximum: 1000 },
            labels: { type: 'array', items: LABEL, maxItems: 100 },
            version: { type: 'string', maxLength: 100 },
            backend: { type: 'string', maxLength: 20 },
            wait_s: { type: 'integer', minimum: 0, maximum: 25 },
          },
        },
        response: { ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      // The claim waits until work comes, its wait is over, or the runner hangs up. The
      // request's own 'close' fires once its body has been read, so the response's is the one
      // that says the connection went away.
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const jobs = await app.runners.claim(
        runnerOf(request),
        request.body,
        gone.signal,
        request.headers.authorization,
      );
      return { jobs };
    },
  );

  app.post<{ Body: HeartbeatRequest }>(
    '/api/runner/heartbeat',
    {
      config,
      schema: {
        summary: "A runner's sign of life for the executions it runs",
        tags: ['runners'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['executions'],
          properties: {
            executions: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 1000 },
          },
        },
        response: { ...errorResponses(400, 401) },
      },
    },
    async (request) =>
      app.runners.heartbeat(runnerOf(request), request.body.executions, request.headers.authorization),
  );

  // Another server claimed this execution's work for the runner: this one, managing the
  // execution, follows the lease from now on and answers with the job (server/cluster/).
  app.post<{ Params: { id: string }; Body: { lease: HandedLease } }>(
    '/api/runner/jobs/:id/take',
    {
      config,
      schema: {
        summary: 'Take the job of a lease another server claimed (between servers)',
        tags: ['runners'],
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['lease'],
          properties: {
            lease: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'executionId', 'runner', 'expiresAt', 'labels'],
              properties: {
                id: { type: 'string', minLength: 1, maxLength: 100 },
                executionId: { type: 'string', maxLength: 64 },
                runner: { type: 'string', maxLength: 200 },
                expiresAt: { type: 'number' },
                labels: { type: 'array', items: LABEL, maxItems: 100 },
              },
            },
          },
        },
        response: { ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const job = await app.runners.take(runnerOf(request), request.params.id, request.body.lease);
      if (!job) throw errors.leaseNotHeld('the execution no longer waits for a runner here');
      return job;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/runner/jobs/:id/source',
    {
      config,
      schema: {
        summary: "An execution's source as a tar, for the runner that holds it",
        tags: ['runners'],
        params: idParams,
        produces: ['application/x-tar'],
        response: { ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const folders = await app.runners.folders(runnerOf(request), request.params.id);
      if (!folders) throw errors.leaseNotHeld();
      return reply.type('application/x-tar').send(sourceArchive(folders.workspace));
    },
  );

  app.post<{ Params: { id: string }; Body: EventBatch }>(
    '/api/runner/jobs/:id/events',
    {
      config,
      bodyLimit: EVENTS_BODY_LIMIT,
      schema: {
        summary: "A batch of an execution's events, from its position in the run",
        tags: ['runners'],
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'events'],
          properties: {
            from: { type: 'integer', minimum: 0 },
            events: {
              type: 'array',
              maxItems: 10_000,
              items: { type: 'object', required: ['type'], properties: { type: { enum: EVENT_TYPES } } },
            },
          },
        },
        response: { ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request) => {
      try {
        const received = await app.runners.events(runnerOf(request), request.params.id, request.body);
        if (received === undefined) throw errors.leaseNotHeld();
        return { received };
      } catch (error) {
        if (error instanceof EventGapError) throw errors.eventsMissing(error.message);
        throw error;
      }
    },
  );

  app.put<{ Params: { id: string }; Querystring: { path: string } }>(
    '/api/runner/jobs/:id/artifacts',
    {
      config,
      schema: {
        summary: 'One artifact file of an execution, before the event that records it',
        tags: ['runners'],
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['path'],
          properties: { path: { type: 'string', minLength: 1, maxLength: 4096 } },
        },
        response: { ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const folders = await app.runners.folders(runnerOf(request), request.params.id);
      if (!folders) throw errors.leaseNotHeld();
      const path = workspaceRelative(request.query.path);
      if (path === undefined)
        throw errors.invalidPath(`'${request.query.path}' is not a clean relative path`);
      const file = join(folders.runDir, 'artifacts', path);
      await mkdir(dirname(file), { recursive: true });
      await pipeline(request.body as NodeJS.ReadableStream, createWriteStream(file));
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string }; Body: GateRequest }>(
    '/api/runner/jobs/:id/gate',
    {
      config,
      schema: {
        summary: "A gated step's decision (waits up to 25 s for one), or the runner stops waiting",
        tags: ['runners'],
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['step'],
          properties: {
            step: { type: 'string', minLength: 1, maxLength: 200 },
            cancel: { type: 'boolean' },
          },
        },
        response: { ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      // As for a claim: the response's 'close' says the runner hung up.
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const answer = await app.runners.gate(runnerOf(request), request.params.id, request.body, gone.signal);
      if (!answer) throw errors.leaseNotHeld();
      return answer;
    },
  );

  app.post<{ Params: { id: string }; Body: FinishRequest }>(
    '/api/runner/jobs/:id/finish',
    {
      config,
      schema: {
        summary: 'How the execution ended on the runner, once all its events are sent',
        tags: ['runners'],
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['status', 'reason', 'events'],
          properties: {
            status: { enum: [...FINISHED_STATUSES] },
            reason: { type: ['string', 'null'], maxLength: 10_000 },
            events: { type: 'integer', minimum: 0 },
          },
        },
        response: { ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const finished = await app.runners.finish(runnerOf(request), request.params.id, request.body);
      if (finished === undefined) throw errors.leaseNotHeld();
      if (!finished) throw errors.eventsMissing();
      return reply.code(204).send();
    },
  );
};

export default runnerRoutes;
