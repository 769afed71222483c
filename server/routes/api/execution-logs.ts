// GET /api/executions/:id/logs: the logs as plain text, steps in plan order, each line
// prefixed `[step] ` unless one step was asked for. Streamed: a log can be large.
// GET /api/executions/:id/steps/:name/log?from=&limit=: a range of one step's lines as JSON,
// each with its HTML (colours rendered, text escaped), for the run page's log view.
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { formatLogLine, readLogLines } from '../../../engine/logs/log-line.ts';
import { errors } from '../../errors.ts';
import { readLogRange } from '../../executions/log-range.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import type { StoredStep } from '../../store/index.ts';
import { readExecution } from '../access.ts';
import { stepParams } from '../params.ts';
import { executionDir, resolveInside } from './execution-files.ts';
import { htmlLogLine, htmlLogLineSchema } from './log-line-view.ts';

const CHUNK_CHARS = 64 * 1024;
const MAX_RANGE_LINES = 5000;

const logsRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { id: string }; Querystring: { step?: string; timestamps?: boolean } }>(
    '/api/executions/:id/logs',
    {
      schema: {
        summary: "An execution's logs as plain text",
        tags: ['executions'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        querystring: {
          type: 'object',
          properties: {
            step: {
              type: 'string',
              minLength: 1,
              maxLength: 1024,
              description: 'only this step, without prefixes',
            },
            timestamps: { type: 'boolean', default: false },
          },
        },
        produces: ['text/plain'],
        response: { 200: { type: 'string' }, ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const { execution } = await readExecution(request, request.params.id);
      const steps = await app.store.steps.list(execution.id);
      const { step: only, timestamps = false } = request.query;
      const chosen = only === undefined ? steps : steps.filter((step) => step.name === only);
      if (chosen.length === 0 && only !== undefined)
        throw errors.stepNotFound(`no step ${JSON.stringify(only)}`);
      const dir = executionDir(app.store.dataDir, execution);
      const text = logText(dir, chosen, { prefix: only === undefined, timestamps });
      return reply
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(Readable.from(chunked(text)));
    },
  );

  app.get<{ Params: { id: string; name: string }; Querystring: { from?: number; limit: number } }>(
    '/api/executions/:id/steps/:name/log',
    {
      schema: {
        summary: "A range of one step's log lines",
        tags: ['executions'],
        params: stepParams,
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'integer', minimum: 1, description: 'first line number; absent: the last lines' },
            limit: { type: 'integer', minimum: 1, maximum: MAX_RANGE_LINES, default: 500 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['step', 'total', 'lines'],
            properties: {
              step: { type: 'string' },
              total: { type: 'integer', description: "the number of the log's last line so far" },
              lines: { type: 'array', items: htmlLogLineSchema },
              commands: {
                type: 'array',
                items: { type: 'integer' },
                description: 'numbers of the `+ command` lines so far (empty when there are very many)',
              },
              commands_partial: {
                type: 'boolean',
                description:
                  'true when `commands` lists only those among `lines`: the last lines of a log not read through yet (any later range lists them all)',
              },
            },
          },
          ...errorResponses(401, 404),
        },
      },
    },
    async (request, reply) => {
      const { execution } = await readExecution(request, request.params.id);
      const step = (await app.store.steps.list(execution.id)).find((s) => s.name === request.params.name);
      if (step === undefined) throw errors.stepNotFound(`no step ${JSON.stringify(request.params.name)}`);
      const file = resolveInside(executionDir(app.store.dataDir, execution), step.log);
      const { total, lines, commands, commandsPartial } =
        file === undefined
          ? { total: 0, lines: [], commands: [] }
          : await readLogRange(file, request.query.from, request.query.limit);
      return reply.header('cache-control', 'no-cache').send({
        step: step.name,
        total,
        commands,
        ...(commandsPartial ? { commands_partial: true } : {}),
        lines: lines.map(htmlLogLine),
      });
    },
  );
};

async function* logText(
  dir: string,
  steps: readonly StoredStep[],
  options: { prefix: boolean; timestamps: boolean },
): AsyncGenerator<string> {
  for (const step of steps) {
    const file = resolveInside(dir, step.log);
    if (file === undefined) continue;
    // A partial line (a prompt, a progress bar) continues on the next one: no break, no prefix.
    let continuing = false;
    for await (const line of linesOf(file)) {
      const head = options.prefix && !continuing ? `[${step.name}] ` : '';
      yield `${head}${formatLogLine(line, { timestamps: options.timestamps && !continuing })}${line.partial ? '' : '\n'}`;
      continuing = line.partial === true;
    }
    if (continuing) yield '\n';
  }
}

/** A step that has not started has no file yet: no lines. */
async function* linesOf(file: string) {
  try {
    yield* readLogLines(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

async function* chunked(parts: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = '';
  for await (const part of parts) {
    buffer += part;
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer !== '') yield buffer;
}

export default logsRoutes;
