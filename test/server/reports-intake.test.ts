// The pure parts behind report intake: item validation and the sink that batches reports into
// the store before streaming them. The limits are the engine's (test/unit/reports-limits.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Report } from '../../engine/reports/types.ts';
import type { EventBody } from '../../server/executions/event-shapes.ts';
import { parseReportItem, parseReportItems } from '../../server/executions/report-items.ts';
import { ReportSink } from '../../server/executions/report-sink.ts';
import type { ReportEntry, Store, StoredReport } from '../../server/store/index.ts';

const NOW = '2026-05-01T10:00:00.000Z';

describe('report items', () => {
  test('metric, progress and annotation follow the reports-file rules', () => {
    assert.deepEqual(parseReportItem({ type: 'metric', name: 'loss', value: 0.5, step: 3 }, NOW), {
      ok: true,
      report: { type: 'metric', name: 'loss', value: 0.5, step: 3, time: NOW },
    });
    assert.deepEqual(
      parseReportItem({ type: 'progress', done: 1, total: 4, time: '2026-05-01T09:00:00+02:00' }, NOW),
      {
        ok: true,
        report: { type: 'progress', done: 1, total: 4, time: '2026-05-01T07:00:00.000Z' },
      },
    );
    assert.equal(
      parseReportItem({ type: 'annotation', level: 'error', message: 'm', line: 2 }, NOW).ok,
      true,
    );
    for (const [item, error] of [
      [{ type: 'metric', name: 'loss', value: null }, /finite/],
      [{ type: 'metric', name: 'a'.repeat(129), value: 1 }, /at most 128/],
      [{ type: 'metric', name: 'loss', value: 1, step: 1.5 }, /step must be a whole number/],
      [{ type: 'progress', done: 1, total: 0 }, /total must be a number > 0/],
      [{ type: 'annotation', level: 'notice' }, /title or a message/],
      [{ type: 'metric', name: 'x', value: 1, time: 12 }, /ISO 8601/],
      [[1, 2], /not a JSON object/],
      [null, /not a JSON object/],
      [{ type: 'log', text: 'x' }, /metric, progress, annotation or tests/],
    ] as const) {
      const result = parseReportItem(item, NOW);
      assert.equal(result.ok, false, JSON.stringify(item));
      assert.match(result.ok ? '' : result.error, error);
    }
  });

  test('tests reports are checked field by field', () => {
    const good = {
      type: 'tests',
      tests: 4,
      failures: 1,
      errors: 1,
      skipped: 0,
      duration_ms: 12.5,
      failed: [
        { suite: 'a > b', name: 'x', classname: 'c', message: 'boom', output: 'trace' },
        { name: 'y' },
      ],
    };
    assert.deepEqual(parseReportItem(good, NOW), {
      ok: true,
      report: {
        ...good,
        time: NOW,
        failed: [
          { suite: 'a > b', name: 'x', classname: 'c', message: 'boom', output: 'trace' },
          { suite: '', name: 'y', classname: '', message: '' },
        ],
      },
    });
    const { failed: _, ...noFailed } = good;
    assert.deepEqual(parseReportItem(noFailed, NOW), {
      ok: true,
      report: { ...noFailed, time: NOW, failed: [] },
    });
    for (const [patch, error] of [
      [{ tests: -1 }, /tests must be a whole number/],
      [{ skipped: 1.5 }, /skipped must be a whole number/],
      [{ duration_ms: Number.NaN }, /duration_ms/],
      [{ failed: 'x' }, /failed must be an array/],
      [{ failed: [{ name: '' }] }, /failed\[0\]: a failed test needs a name/],
      [{ failed: [{ name: 'n', output: 3 }] }, /output must be text/],
      [{ failed: [{ name: 'n', extra: 1 }] }, /unknown field extra/],
      [{ failed: Array(1001).fill({ name: 'n' }) }, /at most 1000 failed tests/],
      [{ extra: 1 }, /unknown field extra/],
    ] as const) {
      const result = parseReportItem({ ...good, ...patch }, NOW);
      assert.match(result.ok ? 'accepted' : result.error, error, JSON.stringify(patch).slice(0, 60));
    }
  });

  test('a list keeps the valid items and says which were refused', () => {
    const parsed = parseReportItems(
      [
        { type: 'metric', name: 'a', value: 1 },
        { type: 'metric' },
        'x',
        { type: 'progress', done: 1, total: 1 },
      ],
      NOW,
    );
    assert.deepEqual(
      parsed.reports.map((r) => r.index),
      [0, 3],
    );
    assert.deepEqual(
      parsed.refused.map((r) => r.index),
      [1, 2],
    );
  });
});

describe('report sink', () => {
  function fakeStore(delayMs = 5) {
    const batches: number[] = [];
    let last = 0;
    const store = {
      reports: {
        async addEntries(_executionId: string, entries: readonly ReportEntry[]): Promise<StoredReport[]> {
          batches.push(entries.length);
          if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
          return entries.map((entry) => ({ ...entry, seq: ++last }));
        },
      },
    } as unknown as Pick<Store, 'reports'>;
    return { store, batches };
  }
  const report = (i: number): Report => ({ type: 'metric', name: 'm', value: i, time: NOW });

  test('writes 1000 at once, then what piled up meanwhile, and publishes after storing, in order', async () => {
    const { store, batches } = fakeStore();
    const published: EventBody[] = [];
    const sink = new ReportSink({
      store,
      executionId: 'e',
      publish: (e) => published.push(e),
      onError: assert.fail,
    });
    for (let i = 0; i < 2500; i++) sink.add('s', report(i));
    assert.equal(published.length, 0, 'nothing is streamed before it is stored');
    await sink.flush();
    assert.deepEqual(batches, [1000, 1500]);
    assert.deepEqual(
      published.map((e) => (e.type === 'report' ? e.seq : 0)),
      Array.from({ length: 2500 }, (_, i) => i + 1),
    );
  });

  test('a few reports wait for the timer, then go together', async (t) => {
    // The test moves the timers: a slow machine cannot make the 40 ms pass early or late.
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const settled = () => new Promise((resolve) => setImmediate(resolve));
    const { store, batches } = fakeStore(0);
    const sink = new ReportSink({
      store,
      executionId: 'e',
      publish: () => undefined,
      onError: assert.fail,
      flushMs: 40,
    });
    for (let i = 0; i < 5; i++) sink.add('s', report(i));
    t.mock.timers.tick(39);
    await settled();
    assert.deepEqual(batches, []);
    t.mock.timers.tick(1);
    await settled();
    assert.deepEqual(batches, [5]);
    sink.add('s', report(5));
    await sink.close();
    assert.deepEqual(batches, [5, 1]);
    sink.add('s', report(6));
    await sink.flush();
    assert.deepEqual(batches, [5, 1], 'closed: later reports are ignored');
  });

  test('a failed batch is reported and not streamed; later batches go on', async () => {
    let calls = 0;
    const store = {
      reports: {
        async addEntries(_: string, entries: readonly ReportEntry[]): Promise<StoredReport[]> {
          calls += 1;
          if (calls === 1) throw new Error('disk full');
          return entries.map((entry, i) => ({ ...entry, seq: i + 1 }));
        },
      },
    } as unknown as Pick<Store, 'reports'>;
    const errors: unknown[] = [];
    const published: EventBody[] = [];
    const sink = new ReportSink({
      store,
      executionId: 'e',
      publish: (e) => published.push(e),
      onError: (e) => errors.push(e),
    });
    sink.add('s', report(1));
    await sink.flush();
    sink.add('s', report(2));
    await sink.flush();
    assert.equal(errors.length, 1);
    assert.equal(published.length, 1);
  });
});
