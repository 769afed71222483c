import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { painter, runSummary } from '../../engine/cli/reporters/format.ts';
import { liveReporter } from '../../engine/cli/reporters/live.ts';
import { plainReporter } from '../../engine/cli/reporters/plain.ts';
import { formatNumber, progressBar, ReportsView } from '../../engine/cli/reporters/reports-view.ts';
import type { RunEvent } from '../../engine/events.ts';
import type { Report } from '../../engine/reports/types.ts';
import type { RunRecord, StepRecord } from '../../engine/run-record.ts';

const T = '2026-01-02T03:04:05.000Z';
const paint = painter(false);

function sink() {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { out, text: () => chunks.join('') };
}

function stepRecord(name: string, status: StepRecord['status']): StepRecord {
  return {
    name,
    status,
    exit_code: status === 'success' ? 0 : null,
    reason: null,
    started_at: T,
    ended_at: status === 'running' ? null : T,
    duration_ms: status === 'running' ? null : 1200,
    attempts: 1,
    log: `logs/${name}.log`,
  };
}

const report = (step: string, r: Report): RunEvent => ({ type: 'report', step, report: r });
const progress = (done: number, message?: string): Report =>
  message === undefined
    ? { type: 'progress', done, total: 100, time: T }
    : { type: 'progress', done, total: 100, message, time: T };
const metric = (name: string, value: number): Report => ({ type: 'metric', name, value, time: T });

describe('plain reporter and reports', () => {
  test('progress at most every 5 s per step, the held-back last one and a metric summary at the end', () => {
    const { out, text } = sink();
    let clock = 0;
    const reporter = plainReporter(out, paint, { now: () => clock });
    reporter.onEvent({ type: 'step', step: stepRecord('train', 'running') });
    reporter.onEvent(report('train', progress(1, 'epoch 1')));
    clock = 3000;
    reporter.onEvent(report('train', progress(2, 'epoch 2')));
    reporter.onEvent(report('other', progress(7)));
    clock = 5000;
    reporter.onEvent(report('train', progress(3, 'epoch 3')));
    clock = 6000;
    reporter.onEvent(report('train', progress(4, 'epoch 4')));
    reporter.onEvent(report('train', metric('loss', 0.9)));
    reporter.onEvent(report('train', metric('loss', 0.314)));
    reporter.onEvent(report('train', metric('acc', 0.5)));
    reporter.onEvent({
      type: 'log',
      step: 'train',
      line: { seq: 1, time: T, stream: 'stdout', text: '::gbcms metric name=acc value=0.5', report: true },
    });
    reporter.onEvent({
      type: 'log',
      step: 'train',
      line: { seq: 2, time: T, stream: 'stdout', text: 'plain output' },
    });
    reporter.onEvent({ type: 'step', step: stepRecord('train', 'success') });
    assert.equal(
      text(),
      [
        '▶ train: running',
        'train | progress 1/100 epoch 1',
        'other | progress 7/100',
        'train | progress 3/100 epoch 3',
        'train | plain output',
        'train | progress 4/100 epoch 4',
        '✓ train: success, 1.2s',
        'train | metrics: acc=0.5, loss=0.314 (min 0.314, max 0.9, 2 points)',
        '',
      ].join('\n'),
    );
  });

  test('annotations and test results are lines of their own', () => {
    const { out, text } = sink();
    const reporter = plainReporter(out, paint);
    reporter.onEvent(
      report('lint', {
        type: 'annotation',
        level: 'warning',
        file: 'src/a.ts',
        line: 3,
        title: 'Slow test',
        time: T,
      }),
    );
    reporter.onEvent(
      report('test', {
        type: 'tests',
        time: T,
        tests: 40,
        failures: 2,
        errors: 1,
        skipped: 3,
        duration_ms: 10,
        failed: [
          { suite: 'math', name: 'adds', classname: 'm', message: 'expected 2\nbut got 3' },
          { suite: '', name: 'top', classname: 'm', message: 'boom' },
        ],
      }),
    );
    assert.equal(
      text(),
      [
        'lint | warning src/a.ts:3: Slow test',
        'test | tests: 40, 2 failed, 1 error, 3 skipped',
        'test |   ✗ math > adds: expected 2',
        'test |   ✗ top: boom',
        'test |   ... and 1 more',
        '',
      ].join('\n'),
    );
  });
});

describe('live reporter and reports', () => {
  test('a running step shows its latest progress and two latest metrics; report lines do not scroll', () => {
    const { out, text } = sink();
    const reporter = liveReporter(out, paint);
    reporter.onEvent({ type: 'step', step: stepRecord('train', 'running') });
    reporter.onEvent(report('train', progress(45, 'training epoch 3')));
    reporter.onEvent(report('train', metric('loss', 0.314)));
    reporter.onEvent(report('train', metric('acc', 0.91)));
    reporter.onEvent(report('train', metric('lr', 0.001)));
    reporter.onEvent({
      type: 'log',
      step: 'train',
      line: { seq: 1, time: T, stream: 'stdout', text: '::gbcms metric name=lr value=0.001', report: true },
    });
    reporter.onEvent({
      type: 'log',
      step: 'train',
      line: { seq: 2, time: T, stream: 'stdout', text: 'epoch done' },
    });
    const shown = text();
    reporter.close();
    assert.match(shown, /▰▰▰▰▰▱▱▱▱▱ 45\/100 training epoch 3 {2}acc=0\.91 lr=0\.001/);
    assert.match(shown, /train \| epoch done/);
    assert.doesNotMatch(shown, /::gbcms/);
  });
});

describe('report formatting', () => {
  test('numbers, bars and the live detail', () => {
    assert.equal(formatNumber(0.314), '0.314');
    assert.equal(formatNumber(120), '120');
    assert.equal(formatNumber(1 / 3), '0.3333');
    assert.equal(formatNumber(1.23456e-7), '1.235e-7');
    assert.equal(progressBar(0, 10), '▱▱▱▱▱▱▱▱▱▱');
    assert.equal(progressBar(10, 10), '▰▰▰▰▰▰▰▰▰▰');
    const view = new ReportsView();
    assert.equal(view.liveDetail('x'), '');
    view.add('x', metric('loss', 1));
    view.add('x', metric('acc', 2));
    view.add('x', metric('loss', 3));
    assert.equal(view.liveDetail('x'), 'acc=2 loss=3');
  });

  test('the run summary lists the test results of each step', () => {
    const run: RunRecord = {
      id: 'r',
      pipeline: 'p',
      status: 'failure',
      reason: null,
      backend: 'fake',
      trigger: { event: 'manual' },
      started_at: T,
      ended_at: T,
      duration_ms: 2000,
      steps: [stepRecord('test', 'failure')],
      artifacts: [],
      reports: {
        test: {
          metrics: {},
          annotations: [],
          tests: { time: T, tests: 7, failures: 1, errors: 1, skipped: 2, duration_ms: 5, failed: [] },
        },
      },
    };
    assert.match(runSummary(run, paint, '.gbcms/runs/r'), /\n {2}test: 7 tests, 2 failed, 2 skipped\n/);
  });
});
