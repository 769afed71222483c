// GET /api/executions/:id/events: the execution's live events as server-sent events. Replays
// what the client has not seen (everything, or after Last-Event-ID / ?after=), follows, and
// closes after `end`. Log events carry the line as HTML too (`html`, colours rendered and
// escaped on the server), so pages never turn step output into markup themselves.
import type { FastifyPluginAsync } from 'fastify';
import type { ExecutionEvent } from '../../executions/types.ts';
import { ansiToHtml } from '../../pages/ansi.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { readExecution } from '../access.ts';
import { links } from '../links.ts';
import { EventStream, resumeAfter } from './event-stream.ts';
import { executionView } from './views.ts';

const eventsRoutes: FastifyPluginAsync = async (app) => {
  const urls = links(app.settings.publicUrl);
  const present = (event: ExecutionEvent): unknown => {
    switch (event.type) {
      case 'log':
        return { ...event, html: ansiToHtml(event.line.text).value };
      case 'status':
      case 'end':
        return { ...event, execution: executionView(event.execution, urls) };
      default:
        return event;
    }
  };
  const open = new Set<EventStream>();
  // Streams never end on their own while an execution runs: close them so shutdown can finish.
  app.addHook('preClose', async () => {
    for (const stream of open) stream.close();
  });

  app.get<{ Params: { id: string }; Querystring: { after?: number } }>(
    '/api/executions/:id/events',
    {
      schema: {
        summary: "An execution's live events (text/event-stream)",
        description:
          'Event types: status, step, log, notice, artifact, end. `id:` increases by one per event; reconnect with Last-Event-ID (or ?after=) to resume. The stream closes after `end`.',
        tags: ['executions'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        querystring: {
          type: 'object',
          properties: { after: { type: 'integer', minimum: 0 } },
        },
        produces: ['text/event-stream'],
        response: { 200: { type: 'string' }, ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const { execution } = await readExecution(request, request.params.id);
      const after = resumeAfter(request.headers['last-event-id'], request.query.after);
      let unsubscribe: (() => void) | undefined;
      const openedAt = Date.now();
      const stream = new EventStream(reply.raw, () => {
        open.delete(stream);
        unsubscribe?.();
        // Hijacked replies skip the access log: the stream's own line stands in for it.
        request.log.info(
          { method: request.method, url: request.url, ip: request.ip, durationMs: Date.now() - openedAt },
          'event stream closed',
        );
      });
      open.add(stream);
      reply.hijack();
      stream.open({ 'x-request-id': String(request.id) }, app.settings.sseKeepAliveMs);

      const listener = (event: ExecutionEvent) => {
        stream.send(event.id, event.type, present(event));
        if (event.type === 'end') stream.close();
      };
      try {
        unsubscribe = await app.executions.subscribe(execution.id, listener, after);
      } catch (error) {
        request.log.error({ err: error }, 'could not follow the execution');
        stream.close();
        return;
      }
      // The replay may already have reached `end` (or the client gone) while subscribing.
      if (stream.isClosed) unsubscribe();
    },
  );
};

export default eventsRoutes;
