// GET /api/executions/:id/logs: the logs as plain text, steps in plan order, each line
// prefixed `[step] ` unless one step was asked for. Streamed: a log can be large.
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { formatLogLine, readLogLines } from '../../../engine/logs/log-line.ts';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import type { StoredStep } from '../../store/index.ts';
import { readExecution } from '../access.ts';
import { executionDir, resolveInside } from './execution-files.ts';

const CHUNK_CHARS = 64 * 1024;

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
