// The one report limiter, for a step's reports and an external reporter's alike.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReportLimiter } from '../../engine/reports/limits.ts';
import type { Report } from '../../engine/reports/types.ts';

const T = '2026-05-01T10:00:00.000Z';
const metric = (name: string, value = 1): Report => ({ type: 'metric', name, value, time: T });
const annotation: Report = { type: 'annotation', level: 'notice', title: 't', time: T };

describe('report limiter', () => {
  test('ignores new metric names past the cap and annotations past theirs, saying so once each', () => {
    const limiter = new ReportLimiter({ metricsPerStep: 2, annotationsPerStep: 1 });
    assert.deepEqual(limiter.admit(metric('a')), { kind: 'keep' });
    assert.deepEqual(limiter.admit(metric('b')), { kind: 'keep' });
    assert.deepEqual(limiter.admit(metric('c')), {
      kind: 'ignore',
      notice: "more than 2 different metrics; 'c' and any later new names are ignored",
    });
    assert.deepEqual(limiter.admit(metric('d')), { kind: 'ignore' });
    assert.deepEqual(limiter.admit(metric('a')), { kind: 'keep' }, 'known names go on');
    assert.deepEqual(limiter.admit(annotation), { kind: 'keep' });
    assert.deepEqual(limiter.admit(annotation), {
      kind: 'ignore',
      notice: 'more than 1 annotations; later ones are ignored',
    });
    assert.deepEqual(limiter.admit(annotation), { kind: 'ignore' });
    assert.deepEqual(limiter.takeDroppedLast(), [], 'ignored reports are not kept for the end');
  });

  test('thins a series past its budget, says so once, and keeps the last dropped point', () => {
    const limiter = new ReportLimiter({ pointsPerSeries: 3 });
    const admissions = Array.from({ length: 8 }, (_, i) => limiter.admit(metric('m', i)));
    assert.deepEqual(
      admissions.map((a) => a.kind),
      ['keep', 'keep', 'keep', 'drop', 'keep', 'drop', 'keep', 'drop'],
    );
    assert.deepEqual(
      admissions.flatMap((a) => (a.kind === 'keep' && a.notice !== undefined ? [a.notice] : [])),
      ['metric m passed 3 points; from now on 1 in 2 is kept, and half as many again after each 3 more'],
    );
    assert.deepEqual(
      limiter.takeDroppedLast().map((r) => (r.type === 'metric' ? r.value : -1)),
      [7],
    );
    assert.deepEqual(limiter.takeDroppedLast(), []);
  });

  test('progress is a series of its own; test results are always kept', () => {
    const limiter = new ReportLimiter({ pointsPerSeries: 1 });
    const progress = (done: number): Report => ({ type: 'progress', done, total: 10, time: T });
    assert.equal(limiter.admit(progress(1)).kind, 'keep');
    assert.equal(limiter.admit(progress(2)).kind, 'drop');
    assert.equal(limiter.admit(metric('m')).kind, 'keep', 'a metric does not share the progress budget');
    const tests: Report = {
      type: 'tests',
      time: T,
      tests: 1,
      failures: 0,
      errors: 0,
      skipped: 0,
      duration_ms: 1,
      failed: [],
    };
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.admit(tests), { kind: 'keep' });
    assert.deepEqual(limiter.takeDroppedLast(), [progress(2)]);
  });
});
