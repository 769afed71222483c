// GET /api/executions/:id/events: the execution's live events as server-sent events. Replays
// what the client has not seen (everything, or after Last-Event-ID / ?after=), follows, and
// closes after `end`. Log events carry the line as HTML too (`html`, colours rendered and
// escaped on the server), so pages never turn step output into markup themselves. With
// ?log_batches=true, consecutive lines of a step come as one `logs` event (log-batches.ts).
import type { FastifyPluginAsync } from 'fastify';
import type { ExecutionEvent } from '../../executions/types.ts';
import { ansiToHtml } from '../../pages/ansi.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { readExecution } from '../access.ts';
import { links } from '../links.ts';
import { EventStream, resumeAfter } from './event-stream.ts';
import { LogBatches } from './log-batches.ts';
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

  app.get<{ Params: { id: string }; Querystring: { after?: number; log_batches: boolean } }>(
    '/api/executions/:id/events',
    {
      schema: {
        summary: "An execution's live events (text/event-stream)",
        description:
          'Event types: status, step, log, notice, artifact, report, end. `id:` increases by one per event; reconnect with Last-Event-ID (or ?after=) to resume. The stream closes after `end`. With log_batches, consecutive `log` events of one step come as one `logs` event, {step, lines: [{seq, time, stream, html, partial?, report?}]}, whose id is that of its last line.',
        tags: ['executions'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        querystring: {
          type: 'object',
          properties: {
            after: { type: 'integer', minimum: 0 },
            log_batches: {
              type: 'boolean',
              default: false,
              description: 'consecutive log lines of a step as one `logs` event (lines as HTML only)',
            },
          },
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
      const batches = request.query.log_batches
        ? new LogBatches((id, type, data) => stream.send(id, type, data))
        : undefined;
      const stream = new EventStream(reply.raw, () => {
        open.delete(stream);
        batches?.close();
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
        if (batches && event.type === 'log') return batches.add(event);
        batches?.flush();
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
