import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { LogLine } from '../../engine/logs/log-line.ts';
import { Downsampler } from '../../engine/reports/downsample.ts';
import { readReports, summarizeReportsFile } from '../../engine/reports/reports-file.ts';
import { StepReports } from '../../engine/reports/step-reports.ts';
import { summarizeReports } from '../../engine/reports/summary.ts';
import type { Report, ReportLimits } from '../../engine/reports/types.ts';
import { tempDir } from '../helpers/plans.ts';

const T = '2026-01-02T03:04:05.000Z';

function stepReports(limits: Partial<ReportLimits> = {}) {
  const file = join(tempDir('gbcms-reports-'), 'reports', 'train.jsonl');
  const system: string[] = [];
  const emitted: Report[] = [];
  const reports = new StepReports({
    file,
    log: { system: (text) => system.push(text) },
    emit: (report) => emitted.push(report),
    limits,
  });
  return { reports, file, system, emitted };
}

function line(text: string, overrides: Partial<LogLine> = {}): LogLine {
  return { seq: 1, time: T, stream: 'stdout', text, ...overrides };
}

function metric(name: string, value: number, step?: number): Report {
  return step === undefined
    ? { type: 'metric', name, value, time: T }
    : { type: 'metric', name, value, step, time: T };
}

describe('downsampling', () => {
  test('a million points of one series keep a logarithmic number, with one notice', () => {
    const budget = 100_000;
    const sampler = new Downsampler(budget);
    let kept = 0;
    const thinned: number[] = [];
    const n = 1_000_000;
    for (let i = 0; i < n; i++) {
      const admission = sampler.admit('metric:loss');
      if (admission.keep) kept += 1;
      if (admission.thinnedTo !== undefined) thinned.push(i);
    }
    // 100k at full rate, 100k at 1/2 (200k points), 100k at 1/4 (400k), then 300k at 1/8.
    assert.equal(kept, 100_000 + 100_000 + 100_000 + 37_500);
    assert.ok(kept <= budget * (1 + Math.log2(1 + n / budget)));
    assert.deepEqual(thinned, [budget - 1]);
    assert.equal(sampler.size, 1);
  });

  test('every point is kept below the budget, and the kept ones are evenly spaced after it', () => {
    const sampler = new Downsampler(4);
    const kept = Array.from({ length: 20 }, (_, i) => i).filter(() => sampler.admit('s').keep);
    assert.deepEqual(kept, [0, 1, 2, 3, 5, 7, 9, 11, 15, 19]);
  });
});

describe('step reports', () => {
  test('report lines are recognised on stdout only, and never when partial', () => {
    const { reports, emitted } = stepReports();
    assert.equal(reports.inspectLine(line('::gbcms metric name=loss value=1')), true);
    assert.equal(reports.inspectLine(line('::gbcms metric name=loss value=2', { stream: 'stderr' })), false);
    assert.equal(reports.inspectLine(line('::gbcms metric name=loss value=3', { partial: true })), false);
    assert.equal(reports.inspectLine(line('hello')), false);
    assert.deepEqual(emitted, [metric('loss', 1)]);
  });

  test('the first invalid report line gets one engine line, later ones none', () => {
    const { reports, system, emitted } = stepReports();
    assert.equal(reports.inspectLine(line('::gbcms metric name=loss value=NaN')), false);
    assert.equal(reports.inspectLine(line('::gbcms progress 5/3')), false);
    assert.deepEqual(emitted, []);
    assert.equal(system.length, 1);
    assert.match(system[0] ?? '', /not a valid report \(metric loss: value must be a finite number\)/);
  });

  test('a flood of one metric is downsampled, the summary still counts every point, the last is exact', async () => {
    const { reports, system, emitted, file } = stepReports({ pointsPerSeries: 10 });
    for (let i = 0; i < 1000; i++) reports.add(metric('loss', 1000 - i, i));
    reports.add(metric('acc', 0.5));
    await reports.close();
    const loss = emitted.filter((r) => r.type === 'metric' && r.name === 'loss');
    // 10 at full rate, then 10 each at 1/2, 1/4 ... 1/32 (630 points), 5 at 1/64, plus the last.
    assert.equal(loss.length, 10 * 6 + 5 + 1);
    assert.deepEqual(loss.at(-1), metric('loss', 1, 999));
    assert.equal(system.length, 1);
    assert.match(system[0] ?? '', /metric loss passed 10 points; from now on 1 in 2 is kept/);
    assert.deepEqual(reports.summary()?.metrics, {
      loss: { last: 1, count: 1000, min: 1, max: 1000 },
      acc: { last: 0.5, count: 1, min: 0.5, max: 0.5 },
    });
    const stored: Report[] = [];
    for await (const report of readReports(file)) stored.push(report);
    assert.deepEqual(stored, emitted);
  });

  test('distinct metric names and annotations are capped, so a flood of names stays bounded', () => {
    const { reports, system, emitted } = stepReports({ metricsPerStep: 3, annotationsPerStep: 2 });
    for (let i = 0; i < 10_000; i++) reports.add(metric(`m${i}`, i));
    reports.add(metric('m1', 42));
    for (let i = 0; i < 5; i++) {
      reports.add({ type: 'annotation', level: 'notice', title: `a${i}`, time: T });
    }
    const summary = reports.summary();
    assert.deepEqual(Object.keys(summary?.metrics ?? {}), ['m0', 'm1', 'm2']);
    assert.equal(summary?.metrics.m1?.last, 42);
    assert.deepEqual(
      summary?.annotations.map((a) => a.title),
      ['a0', 'a1'],
    );
    assert.equal(emitted.length, 3 + 1 + 2);
    assert.deepEqual(system, [
      "notice: more than 3 different metrics; 'm3' and any later new names are ignored",
      'notice: more than 2 annotations; later ones are ignored',
    ]);
  });

  test('reports-file lines: valid ones are reports, invalid ones are counted and told about once', () => {
    const { reports, system, emitted } = stepReports();
    reports.acceptFileLine('{"type":"metric","name":"loss","value":0.5,"step":1}', T);
    reports.acceptFileLine('{"type":"metric","name":"loss","value":"high"}', T);
    reports.acceptFileLine('not json', T);
    reports.reportBadFileLines();
    reports.reportBadFileLines();
    assert.deepEqual(emitted, [metric('loss', 0.5, 1)]);
    assert.equal(system.length, 1);
    assert.match(
      system[0] ?? '',
      /^notice: 2 line\(s\) of \$GBCMS_REPORTS are not valid reports.*the first: metric loss: value must be a finite number/,
    );
  });

  test('a metric named __proto__ is an ordinary metric in the summary', () => {
    const { reports } = stepReports();
    reports.add(metric('__proto__', 3));
    const summary = reports.summary();
    assert.deepEqual(Object.getOwnPropertyDescriptor(summary?.metrics, '__proto__')?.value, {
      last: 3,
      count: 1,
      min: 3,
      max: 3,
    });
    assert.match(JSON.stringify(summary), /"metrics":\{"__proto__":\{"last":3,"count":1,"min":3,"max":3\}\}/);
  });

  test('nothing reported: no summary and no file', async () => {
    const { reports, file } = stepReports();
    await reports.close();
    assert.equal(reports.summary(), undefined);
    assert.throws(() => readFileSync(file), /ENOENT/);
  });
});

describe('summaries', () => {
  test('last, count, min and max per metric; latest progress; every annotation; the tests', async () => {
    const all: Report[] = [
      metric('loss', 0.9, 0),
      { type: 'progress', done: 1, total: 3, message: 'epoch 1', time: T },
      metric('loss', 0.4, 1),
      metric('loss', 0.6, 2),
      { type: 'annotation', level: 'warning', file: 'a.py', line: 3, title: 'slow', time: T },
      { type: 'progress', done: 2, total: 3, time: T },
      {
        type: 'tests',
        time: T,
        tests: 3,
        failures: 1,
        errors: 0,
        skipped: 0,
        duration_ms: 12,
        failed: [{ suite: 's', name: 't', classname: 'c', message: 'boom' }],
      },
    ];
    const expected = {
      metrics: { loss: { last: 0.6, count: 3, min: 0.4, max: 0.9 } },
      progress: { done: 2, total: 3 },
      annotations: [{ level: 'warning', file: 'a.py', line: 3, title: 'slow', time: T }],
      tests: {
        time: T,
        tests: 3,
        failures: 1,
        errors: 0,
        skipped: 0,
        duration_ms: 12,
        failed: [{ suite: 's', name: 't', classname: 'c', message: 'boom' }],
      },
    };
    assert.deepEqual(summarizeReports(all), expected);
    const { reports, file } = stepReports();
    for (const report of all) reports.add(report);
    await reports.close();
    assert.deepEqual(reports.summary(), expected);
    assert.deepEqual(await summarizeReportsFile(file), expected, 'the stored file rebuilds the same summary');
  });
});
