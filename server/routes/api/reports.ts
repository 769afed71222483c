// An execution's reports, read: the stored rows a page at a time (charts load the history here
// and follow new points on the event stream: a `report` event's `seq` is the `seq` here), the
// metric names, and the metric points as CSV. Readable like the execution itself.
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../../plugins/schemas.ts';
import { MAX_REPORT_PAGE, type ReportType, type Store } from '../../store/index.ts';
import { readExecution } from '../access.ts';
import { idParams } from '../params.ts';

const REPORT_TYPES = ['metric', 'progress', 'annotation', 'tests'] as const;
/** Rows read per query while writing a CSV. */
const CSV_PAGE = 5000;
export const CSV_HEADER = ['step', 'name', 'step_number', 'value', 'time'] as const;

const nameFilter = { type: 'string', minLength: 1, maxLength: 128, description: "a metric's name" } as const;
const stepFilter = { type: 'string', minLength: 1, maxLength: 1024, description: 'only this step' } as const;

const storedReportSchema = {
  type: 'object',
  required: ['seq', 'step', 'report'],
  properties: {
    seq: { type: 'integer', description: "1, 2, 3... per execution; a `report` event's seq" },
    step: { type: 'string', description: "the step that reported ('external' for an external execution)" },
    report: {
      type: 'object',
      required: ['type', 'time'],
      additionalProperties: true,
      description:
        'metric {name, value, step?}, progress {done, total, message?}, annotation {level, file?, line?, title?, message?} or tests {tests, failures, errors, skipped, duration_ms, failed}',
      properties: {
        type: { type: 'string', enum: [...REPORT_TYPES] },
        time: { type: 'string', format: 'date-time' },
      },
    },
  },
} as const;

interface ReportsQuery {
  type?: ReportType;
  name?: string;
  step?: string;
  limit?: number;
  after?: number;
}

/** One CSV field per RFC 4180: quoted when it holds a comma, a quote or a line break. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(fields: readonly (string | number | null | undefined)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

const reportsRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { id: string }; Querystring: ReportsQuery }>(
    '/api/executions/:id/reports',
    {
      schema: {
        summary: "An execution's reports, oldest first, a page at a time",
        description:
          'Filter by type, metric name and step; pass `next` as ?after= for the next page. Live reports come as `report` events on the event stream, with the same seq.',
        tags: ['executions', 'reports'],
        params: idParams,
        querystring: {
          type: 'object',
          properties: {
            type: { type: 'string', enum: [...REPORT_TYPES] },
            name: nameFilter,
            step: stepFilter,
            limit: { type: 'integer', minimum: 1, maximum: MAX_REPORT_PAGE, default: 1000 },
            after: { type: 'integer', minimum: 0, description: 'only reports with a greater seq' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['items', 'next'],
            properties: {
              items: { type: 'array', items: storedReportSchema },
              next: { type: ['integer', 'null'], description: 'pass as ?after= for the next page' },
            },
          },
          ...errorResponses(400, 401, 404),
        },
      },
    },
    async (request) => {
      const { execution } = await readExecution(request, request.params.id);
      const { type, name, step, limit, after } = request.query;
      return app.store.reports.list({
        executionId: execution.id,
        ...(type !== undefined ? { type } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(step !== undefined ? { step } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(after !== undefined ? { after } : {}),
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/executions/:id/metrics',
    {
      schema: {
        summary: "An execution's metrics: each step's metric names with their stored points",
        tags: ['executions', 'reports'],
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['step', 'name', 'count'],
                  properties: {
                    step: { type: 'string' },
                    name: { type: 'string' },
                    count: { type: 'integer' },
                  },
                },
              },
            },
          },
          ...errorResponses(401, 404),
        },
      },
    },
    async (request) => {
      const { execution } = await readExecution(request, request.params.id);
      return { items: await app.store.reports.metricNames(execution.id) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { name?: string; step?: string } }>(
    '/api/executions/:id/metrics.csv',
    {
      schema: {
        summary: "An execution's metric points as CSV (step,name,step_number,value,time)",
        tags: ['executions', 'reports'],
        params: idParams,
        querystring: { type: 'object', properties: { name: nameFilter, step: stepFilter } },
        produces: ['text/csv'],
        response: { 200: { type: 'string' }, ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { execution } = await readExecution(request, request.params.id);
      const { name, step } = request.query;
      const rows = metricRows(app.store, execution.id, name, step);
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header('content-disposition', `attachment; filename="${execution.id}-metrics.csv"`)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(Readable.from(rows));
    },
  );
};

/** The CSV, a page of rows per chunk: an execution may hold millions of points. */
async function* metricRows(
  store: Pick<Store, 'reports'>,
  executionId: string,
  name: string | undefined,
  step: string | undefined,
): AsyncGenerator<string> {
  yield csvRow(CSV_HEADER);
  let after = 0;
  for (;;) {
    const page = await store.reports.list({
      executionId,
      type: 'metric',
      ...(name !== undefined ? { name } : {}),
      ...(step !== undefined ? { step } : {}),
      after,
      limit: CSV_PAGE,
    });
    let chunk = '';
    for (const { step: stepName, report } of page.items) {
      if (report.type !== 'metric') continue;
      chunk += csvRow([stepName, report.name, report.step, report.value, report.time]);
    }
    if (chunk !== '') yield chunk;
    if (page.next === null) return;
    after = page.next;
  }
}

export default reportsRoutes;
