// External executions: code gbcms did not start (a notebook, a cluster job) reports to the
// server. POST /api/executions with `external: true` creates one (startExternal, called from the
// executions routes); these routes take its reports (a JSON array, or a WebSocket of JSON
// messages), its heartbeats and its end. Writing needs a developer on the project or an admin,
// or a session key of the execution's session (config.sessionKey, checked by reportExecution).
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isSessionKeyShaped } from '../../auth/session-key-crypto.ts';
import { describeError, errors, HttpError } from '../../errors.ts';
import {
  DEFAULT_HEARTBEAT_TIMEOUT_S,
  type ExternalControl,
  type ExternalVerdict,
  MAX_HEARTBEAT_TIMEOUT_S,
  MIN_HEARTBEAT_TIMEOUT_S,
} from '../../executions/index.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import type { Project } from '../../store/index.ts';
import { reportExecution, requireActor, writeProject } from '../access.ts';
import { executionHttpError, mapExecutionErrors } from '../execution-errors.ts';
import { links } from '../links.ts';
import { idParams } from '../params.ts';
import { executionView } from './views.ts';

/** Reports in one request or one WebSocket message, at most. */
export const MAX_REPORTS_PER_REQUEST = 10_000;

export const SESSION_NAME = {
  type: 'string',
  minLength: 1,
  maxLength: 100,
  // Printable, no leading/trailing space, like project names: they show up in pages and logs.
  pattern: '^\\S(?:[^\\u0000-\\u001f\\u007f]*\\S)?$',
} as const;

/** The body fields of POST /api/executions that start an external execution. */
export function externalStartProperties(minHeartbeatTimeoutS: number) {
  return {
    external: {
      type: 'boolean',
      description: 'true: code gbcms does not start (a notebook, a cluster job) reports to this execution',
    },
    session: {
      ...SESSION_NAME,
      description: 'external only: the session to group it in, created on first use',
    },
    name: { ...SESSION_NAME, description: "external only: the execution's label" },
    heartbeat_timeout: {
      type: 'integer',
      minimum: minHeartbeatTimeoutS,
      maximum: MAX_HEARTBEAT_TIMEOUT_S,
      description: `external only: seconds without heartbeats or reports before it ends as error (default ${DEFAULT_HEARTBEAT_TIMEOUT_S})`,
    },
  } as const;
}

export interface ExternalStartBody {
  /** Required, except with a session key (its project then). */
  project_id?: string;
  ref?: string;
  commit?: string;
  external?: boolean;
  session?: string;
  name?: string;
  heartbeat_timeout?: number;
}

/** What the server can do with external executions; 503 when its manager does not offer them. */
export function externalControl(app: FastifyInstance): ExternalControl {
  const external = app.executions.external;
  if (!external)
    throw new HttpError('GBCMS_ERR_UNAVAILABLE', 503, 'this server takes no external executions');
  return external;
}

/** The minimum heartbeat timeout the schemas allow: the manager's (10 s unless a test lowered it). */
export function minHeartbeatTimeout(app: FastifyInstance): number {
  return app.executions.external?.minHeartbeatTimeoutS ?? MIN_HEARTBEAT_TIMEOUT_S;
}

/** POST /api/executions with `external: true`: 201 and the execution, running. */
export async function startExternal(
  request: FastifyRequest<{ Body: ExternalStartBody }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const app = request.server;
  const { body } = request;
  if (body.ref !== undefined || body.commit !== undefined) {
    throw errors.validation('an external execution has no ref or commit: gbcms does not run it');
  }
  const { project, session, requestedBy } = await externalTarget(request);
  const execution = await mapExecutionErrors(
    externalControl(app).start({
      project,
      requestedBy,
      ...(session !== undefined ? { session } : {}),
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.heartbeat_timeout !== undefined ? { heartbeatTimeoutS: body.heartbeat_timeout } : {}),
    }),
  );
  return reply.code(201).send(executionView(execution, links(app.settings.publicUrl)));
}

/**
 * Where a new external execution goes, and who asked. A session key names its project and
 * session itself (both may be left out); any other project or session is 404 to it.
 */
async function externalTarget(
  request: FastifyRequest<{ Body: ExternalStartBody }>,
): Promise<{ project: Project; session: string | undefined; requestedBy: string }> {
  const { body } = request;
  const grant = request.sessionKey;
  if (grant) {
    const { session } = grant;
    const project = await request.server.store.projects.get(session.project_id);
    if (!project || (body.project_id !== undefined && body.project_id !== project.id)) {
      throw errors.projectNotFound();
    }
    if (body.session !== undefined && body.session !== session.name) {
      throw errors.notFound(
        `session '${body.session}' not found: this key creates executions in '${session.name}'`,
      );
    }
    return { project, session: session.name, requestedBy: `session-key:${grant.keyId}` };
  }
  const actor = requireActor(request);
  if (body.project_id === undefined) throw errors.validation('project_id is required');
  const { project } = await writeProject(request, body.project_id);
  return { project, session: body.session, requestedBy: actor.id };
}

/** Fields of POST /api/executions that only an external execution takes. */
export function externalOnlyFields(body: ExternalStartBody): string[] {
  return (['session', 'name', 'heartbeat_timeout'] as const).filter((field) => body[field] !== undefined);
}

const REPORT_SHAPES =
  'Each item is one report, the shapes of the $GBCMS_REPORTS JSON lines: ' +
  '{"type":"metric","name":"loss","value":0.31,"step":120} (name: 1..128 of A-Z a-z 0-9 _ . : / -; value finite; step whole >= 0), ' +
  '{"type":"progress","done":45,"total":100,"message":"epoch 3"}, ' +
  '{"type":"annotation","level":"warning","file":"src/a.py","line":3,"title":"Slow","message":"..."}, ' +
  '{"type":"tests","tests":10,"failures":1,"errors":0,"skipped":2,"duration_ms":1234,"failed":[{"suite":"s","name":"n","classname":"c","message":"m","output":"..."}]}; ' +
  'any of them may carry "time" (ISO 8601), else the time it arrived is used. Invalid items are refused one by one (their index is in `errors`), the others are kept. ' +
  'The limits of a step apply: past 100,000 points a metric is downsampled, and past 1000 metric names or 1000 annotations later ones are ignored (a notice says so, once). The same reports can be sent as JSON messages over a WebSocket: GET /api/executions/{id}/reports/ws (token in the Authorization header or ?token=), one report or an array per message; errors come back as JSON messages.';

const intakeSchema = {
  type: 'object',
  required: ['accepted', 'refused', 'errors', 'notices'],
  properties: {
    accepted: {
      type: 'integer',
      description:
        'valid reports, including those the limits left out (downsampled points, names or annotations past a cap)',
    },
    refused: { type: 'integer' },
    errors: {
      type: 'array',
      description: 'why items were refused (the first 100)',
      items: {
        type: 'object',
        required: ['index', 'error'],
        properties: { index: { type: 'integer' }, error: { type: 'string' } },
      },
    },
    notices: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** What a report WebSocket gets from the socket library: only this much is used. */
interface ReportSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[]) => void): void;
  on(event: 'close', listener: () => void): void;
}

const OPEN = 1;

const externalRoutes: FastifyPluginAsync = async (app) => {
  const urls = links(app.settings.publicUrl);
  // Registered here, not on the app, so only these routes go through its upgrade handling.
  await app.register(websocket, { options: { maxPayload: app.settings.webhookBodyLimit } });

  app.post<{ Params: { id: string }; Body: unknown[] | Record<string, unknown> }>(
    '/api/executions/:id/reports',
    {
      config: { sessionKey: true },
      schema: {
        summary: 'Send reports of an external execution',
        description: REPORT_SHAPES,
        tags: ['executions', 'reports'],
        params: idParams,
        body: {
          // Items are checked one by one in the handler, so one bad item does not sink the rest.
          anyOf: [
            { type: 'array', maxItems: MAX_REPORTS_PER_REQUEST, items: {} },
            { type: 'object', description: 'a single report' },
          ],
          description: `an array of at most ${MAX_REPORTS_PER_REQUEST} reports, or one report`,
        },
        response: { 202: intakeSchema, ...errorResponses(400, 401, 403, 404, 409, 413) },
      },
    },
    async (request, reply) => {
      const execution = await reportExecution(request, request.params.id);
      const { body } = request;
      const intake = await mapExecutionErrors(
        externalControl(app).report(execution.id, Array.isArray(body) ? body : [body]),
      );
      return reply.code(202).send(intake);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/executions/:id/heartbeat',
    {
      config: { sessionKey: true },
      schema: {
        summary: 'Tell the server an external execution is still alive',
        description:
          'Reports count as signs of life too. An external execution silent for longer than its heartbeat_timeout ends as error ("reporter stopped responding").',
        tags: ['executions'],
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['status', 'heartbeat_timeout'],
            properties: {
              status: { type: 'string' },
              heartbeat_timeout: { type: 'integer', description: 'seconds' },
              last_heartbeat_at: { type: 'string', format: 'date-time' },
            },
          },
          ...errorResponses(401, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const execution = await reportExecution(request, request.params.id);
      const alive = await mapExecutionErrors(externalControl(app).heartbeat(execution.id));
      return {
        status: alive.status,
        heartbeat_timeout: alive.heartbeat_timeout_s ?? DEFAULT_HEARTBEAT_TIMEOUT_S,
        ...(alive.last_heartbeat_at !== null ? { last_heartbeat_at: alive.last_heartbeat_at } : {}),
      };
    },
  );

  app.post<{ Params: { id: string }; Body: { status: ExternalVerdict; message?: string } }>(
    '/api/executions/:id/finish',
    {
      config: { sessionKey: true },
      schema: {
        summary: 'End an external execution with its outcome',
        tags: ['executions'],
        params: idParams,
        body: {
          type: 'object',
          required: ['status'],
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['success', 'failure'] },
            message: {
              type: 'string',
              minLength: 1,
              maxLength: 4096,
              description: "becomes the execution's reason",
            },
          },
        },
        response: { 200: { $ref: 'Execution#' }, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const execution = await reportExecution(request, request.params.id);
      const { status, message } = request.body;
      const ended = await mapExecutionErrors(externalControl(app).finish(execution.id, status, message));
      request.log.info(
        {
          execution: execution.id,
          status,
          by: request.actor?.id ?? `session key ${request.sessionKey?.keyId}`,
        },
        'external execution finished',
      );
      return executionView(ended, urls);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { token?: string } }>(
    '/api/executions/:id/reports/ws',
    {
      websocket: true,
      config: { sessionKey: true },
      schema: {
        summary: 'Send reports of an external execution over a WebSocket',
        tags: ['executions', 'reports'],
        params: idParams,
        querystring: {
          type: 'object',
          properties: { token: { type: 'string', minLength: 1, maxLength: 512 } },
        },
      },
      // Browsers cannot set headers on a WebSocket: the token may come in the query instead.
      onRequest: async (request) => {
        const query = request.query;
        if (query.token === undefined) return;
        // The URL goes into the access log: not with the token in it.
        request.raw.url = request.raw.url?.replace(/([?&]token=)[^&]*/, '$1[redacted]');
        if (request.headers.authorization !== undefined) return;
        if (isSessionKeyShaped(query.token)) {
          const grant = await app.store.sessionKeys.authenticate(query.token);
          if (!grant) throw errors.unauthorized('the session key is invalid, revoked or expired');
          request.sessionKey = grant;
          return;
        }
        const found = await app.store.tokens.authenticate(query.token);
        if (!found) throw errors.unauthorized('the API token is invalid or revoked');
        request.actor = found.user;
      },
      // Checked before the upgrade, so a refusal is an ordinary HTTP answer (401, 403, 404, 409).
      preHandler: async (request) => {
        const execution = await reportExecution(request, request.params.id);
        await mapExecutionErrors(externalControl(app).heartbeat(execution.id));
      },
    },
    (socket: ReportSocket, request) => {
      const external = externalControl(app);
      const executionId = request.params.id;
      const send = (message: object) => {
        if (socket.readyState === OPEN) socket.send(JSON.stringify(message));
      };
      const stopWatching = external.onEnd(executionId, (execution) => {
        send({ type: 'end', execution: executionView(execution, urls) });
        socket.close(1000, 'the execution has ended');
      });
      socket.on('close', stopWatching);
      // One message at a time, so reports are stored in the order they were sent.
      let queue = Promise.resolve();
      socket.on('message', (data) => {
        queue = queue.then(async () => {
          const reply = await receive(external, executionId, data);
          if (reply) send(reply);
        });
      });
    },
  );
};

/** Handles one message; the answer to send back, if any (only problems and notices get one). */
async function receive(
  external: ExternalControl,
  executionId: string,
  data: Buffer | ArrayBuffer | Buffer[],
): Promise<object | undefined> {
  const text = Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { type: 'error', ...describeError(errors.invalidJson('the message is not valid JSON')).body };
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length > MAX_REPORTS_PER_REQUEST) {
    const tooMany = errors.validation(`at most ${MAX_REPORTS_PER_REQUEST} reports per message`);
    return { type: 'error', ...describeError(tooMany).body };
  }
  try {
    const intake = await external.report(executionId, items);
    if (intake.refused === 0 && intake.notices.length === 0) return undefined;
    return { type: intake.refused > 0 ? 'refused' : 'notice', ...intake };
  } catch (error) {
    const { body } = describeError(executionHttpError(error));
    return { type: 'error', ...body };
  }
}

export default externalRoutes;
