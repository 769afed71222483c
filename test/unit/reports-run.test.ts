// Reports through a whole run on the fake backend: lines, the reports file, JUnit, the summary
// in run.json, the stored points and the events observers get.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FakeBackend } from '../../engine/backends/fake.ts';
import type { RunEvent } from '../../engine/events.ts';
import { readLogFile } from '../../engine/logs/log-line.ts';

import { reportsFileOf } from '../../engine/plan.ts';
import { readReports } from '../../engine/reports/reports-file.ts';
import type { Report } from '../../engine/reports/types.ts';
import { runPipeline } from '../../engine/run.ts';
import { runFileWriter } from '../../engine/run-file.ts';
import { newRunId } from '../../engine/run-id.ts';
import type { RunRecord } from '../../engine/run-record.ts';
import { beforeHang } from '../helpers/hang.ts';
import { planOf, tempDir } from '../helpers/plans.ts';
import { HANG_MS } from '../helpers/poll.ts';

const image = 'busybox:stable';

async function runFake(steps: Parameters<typeof planOf>[0]) {
  const events: { at: number; event: RunEvent }[] = [];
  const runsDir = tempDir();
  const plan = planOf(steps);
  const id = newRunId();
  const runFile = runFileWriter(join(runsDir, id));
  const run = await runPipeline(plan, {
    backend: new FakeBackend(),
    runsDir,
    id,
    observer: (event) => {
      events.push({ at: Date.now(), event });
      runFile.observe(event);
    },
  });
  await runFile.flush();
  return { run, plan, events, dir: join(runsDir, run.id) };
}

function reportsOf(events: { event: RunEvent }[], step: string): Report[] {
  return events.flatMap(({ event }) =>
    event.type === 'report' && event.step === step ? [event.report] : [],
  );
}

const JUNIT = `<testsuites><testsuite name="unit"><testcase name="ok" classname="t"/><testcase name="bad" classname="t"><failure message="expected 1">trace</failure></testcase><testcase name="later" classname="t"><skipped/></testcase></testsuite></testsuites>`;

describe('reports in a run', () => {
  test('lines, the reports file and JUnit become events, stored points and the run summary', async () => {
    const { run, events, dir } = await runFake({
      train: {
        image,
        commands: ['x'],
        env: {
          STEP_OUTPUT: [
            'starting',
            '::gbcms progress 1/3 epoch 1',
            '::gbcms metric name=loss value=0.9 step=1',
            '::gbcms metric name=loss value=NaN',
            '::gbcms annotation level=warning file=train.py line=12 title=learning rate is high',
            'done',
            '',
          ].join('\n'),
          STEP_REPORTS_JSONL: [
            '{"type":"metric","name":"loss","value":0.4,"step":2}',
            '{"type":"metric","name":"acc","value":"high"}',
            '{"type":"progress","done":3,"total":3,"time":"2026-01-01T00:00:00Z"}',
            '{"type":"metric","name":"acc","value":0.8}',
          ].join('\n'),
          STEP_JUNIT_XML: JUNIT,
        },
        reports: { junit: 'out/junit.xml' },
      },
      quiet: { image, commands: ['x'], env: { STEP_OUTPUT: 'nothing to report\n' } },
    });
    assert.equal(run.status, 'success', 'a failed test in the JUnit file does not fail the step');

    const reports = reportsOf(events, 'train');
    assert.deepEqual(
      reports.map((r) => (r.type === 'metric' ? `${r.name}=${r.value}` : r.type)),
      ['progress', 'loss=0.9', 'annotation', 'loss=0.4', 'progress', 'acc=0.8', 'tests'],
    );
    assert.equal(reports[4]?.time, '2026-01-01T00:00:00.000Z', "a reports-file line's own time is kept");
    assert.deepEqual(reportsOf(events, 'quiet'), []);

    const summary = run.reports.train;
    assert.deepEqual(summary?.metrics, {
      loss: { last: 0.4, count: 2, min: 0.4, max: 0.9 },
      acc: { last: 0.8, count: 1, min: 0.8, max: 0.8 },
    });
    assert.deepEqual(summary?.progress, { done: 3, total: 3 });
    assert.deepEqual(
      summary?.annotations.map(({ time: _time, ...a }) => a),
      [{ level: 'warning', file: 'train.py', line: 12, title: 'learning rate is high' }],
    );
    assert.deepEqual(summary?.tests && { ...summary.tests, time: undefined }, {
      time: undefined,
      tests: 3,
      failures: 1,
      errors: 0,
      skipped: 1,
      duration_ms: 0,
      failed: [{ suite: 'unit', name: 'bad', classname: 't', message: 'expected 1', output: 'trace' }],
    });
    assert.deepEqual(Object.keys(run.reports), ['train'], 'a step that reported nothing has no entry');

    const saved = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as RunRecord;
    assert.deepEqual(saved.reports, run.reports);
    const stored: Report[] = [];
    for await (const report of readReports(join(dir, 'reports', 'train.jsonl'))) stored.push(report);
    assert.deepEqual(stored, reports);

    // Report lines are flagged for observers; ordinary and invalid ones are not.
    const logEvents = events.flatMap(({ event }) =>
      event.type === 'log' && event.step === 'train' ? [event.line] : [],
    );
    const flagged = logEvents.filter((l) => l.report).map((l) => l.text);
    assert.deepEqual(flagged, [
      '::gbcms progress 1/3 epoch 1',
      '::gbcms metric name=loss value=0.9 step=1',
      '::gbcms annotation level=warning file=train.py line=12 title=learning rate is high',
    ]);
    assert.ok(logEvents.some((l) => l.text === '::gbcms metric name=loss value=NaN' && !l.report));
    const log = await readLogFile(join(dir, 'logs', 'train.log'));
    const system = log.filter((l) => l.stream === 'system').map((l) => l.text);
    assert.ok(
      system.some((t) => /not a valid report \(metric loss: value must be a finite number\)/.test(t)),
    );
    assert.ok(system.some((t) => /1 line\(s\) of \$GBCMS_REPORTS are not valid reports/.test(t)));
    assert.ok(
      system.includes("JUnit report 'out/junit.xml': 3 tests, 1 failed, 0 errors, 1 skipped"),
      system.join('\n'),
    );
    assert.ok(
      log.some((l) => l.text === '::gbcms metric name=loss value=0.9 step=1'),
      'report lines stay in the log',
    );

    // Every report event comes before the step's final status.
    const ended = events.findIndex(
      ({ event }) => event.type === 'step' && event.step.name === 'train' && event.step.status === 'success',
    );
    const lastReport = events
      .map(({ event }) => event.type === 'report' && event.step === 'train')
      .lastIndexOf(true);
    assert.ok(lastReport < ended);
  });

  test('reports-file points arrive while the step is still running', async () => {
    // The step runs until the run is terminated, and the run is terminated only once a report
    // has arrived: the report cannot be the last read at the step's end.
    const controller = new AbortController();
    const events: RunEvent[] = [];
    const run = await beforeHang(
      runPipeline(
        planOf({
          slow: {
            image,
            commands: ['x'],
            env: {
              STEP_SLEEP_MS: 10 * HANG_MS,
              STEP_REPORTS_JSONL: '{"type":"metric","name":"loss","value":1}\n',
            },
          },
        }),
        {
          backend: new FakeBackend(),
          runsDir: tempDir(),
          signal: controller.signal,
          observer: (event) => {
            events.push(event);
            if (event.type === 'report') controller.abort();
          },
        },
      ),
      'the run',
    );
    assert.equal(run.steps[0]?.status, 'killed');
    const kinds = events.flatMap((event) =>
      event.type === 'report' ? ['report'] : event.type === 'step' ? [`step ${event.step.status}`] : [],
    );
    assert.deepEqual(kinds, ['step running', 'report', 'step killed']);
  });

  test('a missing JUnit file is a log line, not a failure', async () => {
    const { run, dir } = await runFake({ test: { image, commands: ['x'], reports: { junit: 'junit.xml' } } });
    assert.equal(run.status, 'success');
    const log = await readLogFile(join(dir, 'logs', 'test.log'));
    assert.ok(
      log.some(
        (l) =>
          l.stream === 'system' &&
          l.text === "notice: JUnit report 'junit.xml' was not found in the workspace",
      ),
    );
    assert.deepEqual(run.reports, {});
  });

  test('hostile JUnit XML is refused with a log line', async () => {
    const { run, dir } = await runFake({
      test: {
        image,
        commands: ['x'],
        env: {
          STEP_JUNIT_XML: '<!DOCTYPE a [<!ENTITY b "c">]><testsuite><testcase name="&b;"/></testsuite>',
        },
        reports: { junit: 'junit.xml' },
      },
    });
    assert.equal(run.status, 'success');
    const log = await readLogFile(join(dir, 'logs', 'test.log'));
    assert.ok(
      log.some((l) => /JUnit report 'junit.xml' was refused: the file declares a DOCTYPE/.test(l.text)),
    );
  });

  test('the reports file of a step shares its slug with its log', () => {
    const plan = planOf({
      'build.x': { image, commands: ['x'] },
      build_x: { image, commands: ['x'] },
      test: { image, commands: ['x'], matrix: { node: ['18', '20'] } },
    });
    assert.deepEqual(
      plan.steps.map((s) => reportsFileOf(s)),
      [
        '.gbcms/reports/build.x.jsonl',
        '.gbcms/reports/build_x.jsonl',
        '.gbcms/reports/test-node-18.jsonl',
        '.gbcms/reports/test-node-20.jsonl',
      ],
    );
  });
});
