import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createLineReporter, openReportsFile } from '../../engine/report/client.ts';
import { parseReportJson, parseReportLine } from '../../engine/reports/protocol.ts';
import { tempDir } from '../helpers/plans.ts';

const T = '2026-01-02T03:04:05.000Z';
const run = promisify(execFile);

describe('report client: stdout lines', () => {
  test('each call prints one protocol line the engine reads back', () => {
    const lines: string[] = [];
    const reporter = createLineReporter((line) => lines.push(line));
    reporter.metric('loss', 0.314, 120);
    reporter.progress(45, 100, 'training epoch 3');
    reporter.annotation({
      level: 'warning',
      file: 'src/my file.ts',
      line: 3,
      title: 'Slow "test"',
      message: 'took 5 s',
    });
    assert.deepEqual(lines, [
      '::gbcms metric name=loss value=0.314 step=120\n',
      '::gbcms progress 45/100 training epoch 3\n',
      '::gbcms annotation level=warning file="src/my file.ts" line=3 title="Slow \\"test\\"" message=took 5 s\n',
    ]);
    assert.deepEqual(
      lines.map((line) => parseReportLine(line.trimEnd(), T)),
      [
        { ok: true, report: { type: 'metric', name: 'loss', value: 0.314, step: 120, time: T } },
        {
          ok: true,
          report: { type: 'progress', done: 45, total: 100, message: 'training epoch 3', time: T },
        },
        {
          ok: true,
          report: {
            type: 'annotation',
            level: 'warning',
            file: 'src/my file.ts',
            line: 3,
            title: 'Slow "test"',
            message: 'took 5 s',
            time: T,
          },
        },
      ],
    );
  });

  test('what the engine would refuse throws a RangeError and prints nothing', () => {
    const lines: string[] = [];
    const reporter = createLineReporter((line) => lines.push(line));
    assert.throws(() => reporter.metric('loss', Number.NaN), /RangeError|finite number/);
    assert.throws(() => reporter.metric('loss', Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => reporter.metric('bad name', 1), /may only hold/);
    assert.throws(() => reporter.metric('x'.repeat(129), 1), /at most 128/);
    assert.throws(() => reporter.metric('loss', 1, -1), /step must be a whole number/);
    assert.throws(() => reporter.metric('loss', 1, 1.5), /step must be a whole number/);
    assert.throws(() => reporter.progress(5, 0), /total must be a number > 0/);
    assert.throws(() => reporter.progress(1, 2, 'two\nlines'), /one line/);
    assert.throws(() => reporter.annotation({ level: 'warning' }), /title or a message/);
    assert.deepEqual(lines, []);
  });
});

describe('report client: the reports file', () => {
  test('buffers JSON lines with their own time and writes them on flush', async () => {
    const path = join(tempDir(), 'train.jsonl');
    writeFileSync(path, '');
    const file = openReportsFile({ path, now: () => new Date(T), flushMs: 60_000 });
    for (let i = 0; i < 3; i++) file.metric('loss', 1 / (i + 1), i);
    file.progress(3, 3);
    assert.equal(readFileSync(path, 'utf8'), '', 'nothing is written before a flush');
    await file.flush();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.deepEqual(parseReportJson(lines[1] ?? '', 'ignored'), {
      ok: true,
      report: { type: 'metric', name: 'loss', value: 0.5, step: 1, time: T },
    });
    file.annotation({ level: 'error', title: 'diverged' });
    await file.close();
    await file.close();
    assert.equal(readFileSync(path, 'utf8').trimEnd().split('\n').length, 5, 'close() writes what is left');
    assert.throws(() => file.metric('loss', 1), /closed/);
  });

  test('a full buffer is written at once', async () => {
    const path = join(tempDir(), 'r.jsonl');
    const file = openReportsFile({ path, bufferChars: 100, flushMs: 60_000 });
    for (let i = 0; i < 10; i++) file.metric('loss', i);
    assert.ok(readFileSync(path, 'utf8').split('\n').length > 5);
    file.flushSync();
    assert.equal(readFileSync(path, 'utf8').trimEnd().split('\n').length, 10);
    await file.close();
  });

  test('outside a step there is no reports file to open', () => {
    const saved = process.env.GBCMS_REPORTS;
    delete process.env.GBCMS_REPORTS;
    try {
      assert.throws(() => openReportsFile(), /\$GBCMS_REPORTS is not set/);
    } finally {
      if (saved !== undefined) process.env.GBCMS_REPORTS = saved;
    }
  });
});

describe('report client as a package import', () => {
  test("'gbcms/report' prints to stdout and appends to $GBCMS_REPORTS, flushed at exit", async () => {
    const path = join(tempDir(), 'step.jsonl');
    const script = [
      "const { metric, progress, annotation, openReportsFile } = await import('gbcms/report');",
      "progress(1, 2, 'half way');",
      "metric('loss', 0.25);",
      "annotation({ level: 'notice', title: 'done soon' });",
      'const file = openReportsFile();',
      "file.metric('acc', 0.75, 7);",
    ].join('\n');
    // In a clone the package's `gbcms-source` condition maps `gbcms/report` to its source (no
    // build needed); the compiled `dist/` is what an installed package imports, tested in
    // test/package/tarball.test.ts. Without the condition this test would depend on a build
    // left behind by another test.
    const args = ['--conditions=gbcms-source', '--import', 'tsx', '--input-type=module', '-e', script];
    const { stdout } = await run(process.execPath, args, {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { ...process.env, GBCMS_REPORTS: path },
    });
    assert.equal(
      stdout,
      '::gbcms progress 1/2 half way\n::gbcms metric name=loss value=0.25\n::gbcms annotation level=notice title=done soon\n',
    );
    const [line] = readFileSync(path, 'utf8').trimEnd().split('\n');
    const parsed = parseReportJson(line ?? '', T);
    assert.ok(parsed.ok);
    assert.deepEqual(
      { ...parsed.report, time: T },
      { type: 'metric', name: 'acc', value: 0.75, step: 7, time: T },
    );
  });
});
