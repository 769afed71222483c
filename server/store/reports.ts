// Reports: the metric points, progress, annotations and test results of an execution's steps
// (or of an external reporter), one row each, numbered 1, 2, 3... per execution. Rows are
// written in batches, one transaction per batch: a step reporting 10,000 points a second costs
// a few transactions a second, not 10,000.
import type { AnnotationReport, ProgressReport, Report, TestsReport } from '../../engine/reports/types.ts';
import type { RepoContext } from './context.ts';
import { isPostgres } from './dialect.ts';
import type { ReportsTable } from './schema.ts';

export const DEFAULT_REPORT_PAGE = 1000;
export const MAX_REPORT_PAGE = 10_000;
/** Rows per INSERT: 9 parameters each stays far below SQLite's and PostgreSQL's limits. */
const ROWS_PER_INSERT = 500;

export type ReportType = Report['type'];

export interface ReportEntry {
  /** The step that reported. */
  step: string;
  report: Report;
}

export interface StoredReport extends ReportEntry {
  /** 1, 2, 3... per execution, in the order the reports were stored; the pagination cursor. */
  seq: number;
}

export interface ListReportsOptions {
  executionId: string;
  type?: ReportType;
  /** A metric's name (only metrics have one). */
  name?: string;
  step?: string;
  /** Default 1000, at most 10,000. */
  limit?: number;
  /** Only reports with a greater seq: `next` of the previous page. */
  after?: number;
}

export interface ReportPage {
  /** In seq order. */
  items: StoredReport[];
  /** Pass as `after` for the next page; null on the last page. */
  next: number | null;
}

export interface MetricName {
  step: string;
  name: string;
  /** Points stored. */
  count: number;
}

export interface ReportRepo {
  /** Stores one step's reports in one transaction, numbered after the execution's last. */
  addBatch(executionId: string, step: string, reports: readonly Report[]): Promise<StoredReport[]>;
  /** Stores reports of any steps, in the order given, in one transaction. */
  addEntries(executionId: string, entries: readonly ReportEntry[]): Promise<StoredReport[]>;
  list(options: ListReportsOptions): Promise<ReportPage>;
  /** The reports with from <= seq <= to, in seq order. */
  range(executionId: string, from: number, to: number): Promise<StoredReport[]>;
  /** Each metric of each step, by step then name. */
  metricNames(executionId: string): Promise<MetricName[]>;
  /** The steps that reported, in the order they first did. */
  steps(executionId: string): Promise<string[]>;
  /** The execution's highest seq; 0 before its first report. */
  lastSeq(executionId: string): Promise<number>;
}

type ReportRow = Omit<ReportsTable, 'execution_id'>;

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_REPORT_PAGE;
  return Math.min(MAX_REPORT_PAGE, Math.max(1, Math.floor(limit)));
}

function toColumns(report: Report): Omit<ReportRow, 'seq' | 'step'> {
  if (report.type === 'metric') {
    return {
      type: 'metric',
      name: report.name,
      value: report.value,
      step_number: report.step ?? null,
      time: report.time,
      data: null,
    };
  }
  const { type, time, ...data } = report;
  return { type, name: null, value: null, step_number: null, time, data: JSON.stringify(data) };
}

function fromRow(row: ReportRow): StoredReport {
  const { seq, step, type, time } = row;
  if (type === 'metric') {
    const report: Report = { type, time, name: row.name ?? '', value: row.value ?? 0 };
    if (row.step_number !== null) report.step = row.step_number;
    return { seq, step, report };
  }
  // `data` was written by toColumns from a report of this same type.
  const data = JSON.parse(row.data ?? '{}') as
    | Omit<ProgressReport, 'type' | 'time'>
    | Omit<AnnotationReport, 'type' | 'time'>
    | Omit<TestsReport, 'type' | 'time'>;
  return { seq, step, report: { ...data, type, time } as Report };
}

const COLUMNS = ['seq', 'step', 'type', 'name', 'value', 'step_number', 'time', 'data'] as const;

export function reportRepo({ db }: RepoContext): ReportRepo {
  const postgres = isPostgres(db);
  const lastSeq = async (executionId: string, executor = db): Promise<number> => {
    const row = await executor
      .selectFrom('reports')
      .select((eb) => eb.fn.max('seq').as('last'))
      .where('execution_id', '=', executionId)
      .executeTakeFirst();
    return Number(row?.last ?? 0);
  };

  const addEntries: ReportRepo['addEntries'] = async (executionId, entries) => {
    if (entries.length === 0) return [];
    return db.transaction().execute(async (trx) => {
      // Seqs stay contiguous and unique only if no one else numbers this execution's reports
      // between our max(seq) and our insert. SQLite: the transaction's write lock. PostgreSQL
      // reads committed rows only, so two servers would read the same max: the execution's row
      // lock queues them (NO KEY: the FK checks of steps being written need not wait), and the
      // max is read after it, by a statement that sees what the previous holder committed.
      if (postgres) {
        await trx
          .selectFrom('executions')
          .select('id')
          .where('id', '=', executionId)
          .forNoKeyUpdate()
          .execute();
      }
      const first = (await lastSeq(executionId, trx)) + 1;
      const stored: StoredReport[] = [];
      for (let start = 0; start < entries.length; start += ROWS_PER_INSERT) {
        const rows = entries.slice(start, start + ROWS_PER_INSERT).map((entry, i) => {
          const seq = first + start + i;
          stored.push({ seq, step: entry.step, report: entry.report });
          return { execution_id: executionId, seq, step: entry.step, ...toColumns(entry.report) };
        });
        await trx.insertInto('reports').values(rows).execute();
      }
      return stored;
    });
  };

  return {
    addBatch: (executionId, step, reports) =>
      addEntries(
        executionId,
        reports.map((report) => ({ step, report })),
      ),

    addEntries,

    async list(options) {
      const limit = clampLimit(options.limit);
      let query = db.selectFrom('reports').select(COLUMNS).where('execution_id', '=', options.executionId);
      if (options.type !== undefined) query = query.where('type', '=', options.type);
      if (options.name !== undefined) query = query.where('name', '=', options.name);
      if (options.step !== undefined) query = query.where('step', '=', options.step);
      if (options.after !== undefined) query = query.where('seq', '>', options.after);
      // One extra row tells whether there is a next page without a count query.
      const rows = await query
        .orderBy('seq')
        .limit(limit + 1)
        .execute();
      const items = rows.slice(0, limit).map(fromRow);
      const last = items.at(-1);
      return { items, next: rows.length > limit && last ? last.seq : null };
    },

    async range(executionId, from, to) {
      const rows = await db
        .selectFrom('reports')
        .select(COLUMNS)
        .where('execution_id', '=', executionId)
        .where('seq', '>=', from)
        .where('seq', '<=', to)
        .orderBy('seq')
        .execute();
      return rows.map(fromRow);
    },

    async metricNames(executionId) {
      const rows = await db
        .selectFrom('reports')
        .select((eb) => ['step', 'name', eb.fn.countAll<number>().as('count')])
        .where('execution_id', '=', executionId)
        .where('type', '=', 'metric')
        .groupBy(['step', 'name'])
        .orderBy('step')
        .orderBy('name')
        .execute();
      return rows.map((row) => ({ step: row.step, name: row.name ?? '', count: Number(row.count) }));
    },

    async steps(executionId) {
      const rows = await db
        .selectFrom('reports')
        .select((eb) => ['step', eb.fn.min('seq').as('first')])
        .where('execution_id', '=', executionId)
        .groupBy('step')
        .orderBy('first')
        .execute();
      return rows.map((row) => row.step);
    },

    lastSeq: (executionId) => lastSeq(executionId),
  };
}
