import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatReportJson, formatReportLine } from '../../engine/reports/format.ts';
import { parseReportJson, parseReportLine, trimBlanks } from '../../engine/reports/protocol.ts';
import type { Report, ReportInput } from '../../engine/reports/types.ts';
import { reportProblem } from '../../engine/reports/validate.ts';

const T = '2026-01-02T03:04:05.000Z';

function parsed(text: string): Report {
  const result = parseReportLine(text, T);
  assert.ok(result, `'${text}' should be taken as a report command`);
  assert.ok(result.ok, `'${text}' should be valid, got: ${result.ok ? '' : result.error}`);
  return result.report;
}

function refused(text: string): string {
  const result = parseReportLine(text, T);
  assert.ok(result, `'${text}' should be taken as a report command`);
  assert.equal(result.ok, false, `'${text}' should be refused`);
  return result.ok ? '' : result.error;
}

// ---------------------------------------------------------------------------------------------
// Generators of valid reports, in the form the parser gives them back.

const metricName = fc.stringMatching(/^[A-Za-z0-9_.:/-]{1,128}$/);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v));
const anyText = (maxLength: number) => fc.string({ unit: 'binary', minLength: 1, maxLength });

const metric: fc.Arbitrary<ReportInput> = fc
  .record({ name: metricName, value: finite, step: fc.option(fc.nat(), { nil: undefined }) })
  .map(({ name, value, step }) =>
    step === undefined ? { type: 'metric', name, value } : { type: 'metric', name, value, step },
  );

const progress: fc.Arbitrary<ReportInput> = fc
  .record({
    total: fc.double({ min: Number.MIN_VALUE, max: 1e300, noNaN: true }),
    fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    message: fc.option(fc.string({ unit: 'binary', maxLength: 80 }), { nil: undefined }),
  })
  .map(({ total, fraction, message }) => {
    const done = total * fraction;
    const clean = message === undefined ? '' : trimBlanks(message.replace(/[\r\n]/g, ' '));
    return clean === ''
      ? { type: 'progress', done, total }
      : { type: 'progress', done, total, message: clean };
  });

const annotation: fc.Arbitrary<ReportInput> = fc
  .record({
    level: fc.constantFrom('notice', 'warning', 'error'),
    file: fc.option(anyText(100), { nil: undefined }),
    line: fc.option(fc.integer({ min: 1, max: 1e9 }), { nil: undefined }),
    title: fc.option(anyText(100), { nil: undefined }),
    message: fc.option(anyText(100), { nil: undefined }),
  })
  .filter((a) => a.title !== undefined || a.message !== undefined)
  .map(({ level, file, line, title, message }) => {
    const input: ReportInput = { type: 'annotation', level };
    if (file !== undefined) input.file = file;
    if (line !== undefined) input.line = line;
    if (title !== undefined) input.title = title;
    if (message !== undefined) input.message = message;
    return input;
  });

const report = fc.oneof(metric, progress, annotation);

/** Line-ish junk with a bias towards the protocol's own pieces. */
const junkLine = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .tuple(
      fc.constantFrom('::gbcms ', '::gbcms', ' ::gbcms ', '::GBCMS ', '::gbcms  '),
      fc.constantFrom('metric', 'progress', 'annotation', 'metrics', ''),
      fc.array(
        fc.constantFrom(
          ' ',
          '\t',
          'name=',
          'value=',
          'step=',
          'level=',
          'title=',
          'message=',
          'file=',
          'line=',
          'warning',
          'error',
          '"',
          '\\',
          '\\"',
          '=',
          '/',
          '45/100',
          '0/0',
          'loss',
          '-1',
          '0.5',
          '1e999',
          'NaN',
          'Infinity',
          '0x10',
          'x',
        ),
        { maxLength: 12 },
      ),
    )
    .map(([prefix, command, parts]) => `${prefix}${command}${parts.join('')}`),
);

describe('report lines: round trip', () => {
  test('what the formatter writes, the parser reads back exactly', () => {
    fc.assert(
      fc.property(report, (input) => {
        const line = formatReportLine(input);
        assert.ok(!/[\r\n]/.test(line), 'a report is one line');
        assert.deepEqual(parseReportLine(line, T), { ok: true, report: { ...input, time: T } });
      }),
      { numRuns: 2000 },
    );
  });

  test('the reports-file form round-trips too, with its own time', () => {
    fc.assert(
      fc.property(report, fc.date({ noInvalidDate: true }), (input, date) => {
        const json = formatReportJson(input, date);
        assert.deepEqual(parseReportJson(json, T), {
          ok: true,
          report: { ...input, time: date.toISOString() },
        });
      }),
      { numRuns: 1000 },
    );
  });

  test('junk never throws, and what it yields as a report is valid and stable', () => {
    fc.assert(
      fc.property(junkLine, (text) => {
        const result = parseReportLine(text, T);
        if (!text.startsWith('::gbcms ')) {
          assert.equal(result, undefined);
          return;
        }
        assert.ok(result);
        if (!result.ok) return;
        const { time: _time, ...input } = result.report;
        assert.equal(reportProblem(input as ReportInput), undefined);
        assert.deepEqual(parseReportLine(formatReportLine(input as ReportInput), T), result);
      }),
      { numRuns: 5000 },
    );
  });

  test('JSON junk never throws, and what it yields as a report is valid', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.string({ unit: 'binary' }),
          fc
            .record({ type: fc.constantFrom('metric', 'progress', 'annotation'), rest: fc.object() })
            .map(({ type, rest }) => JSON.stringify({ ...rest, type })),
        ),
        (text) => {
          const result = parseReportJson(text, T);
          if (result.ok) {
            const { time: _time, ...input } = result.report;
            assert.equal(reportProblem(input as ReportInput), undefined);
          } else {
            assert.equal(typeof result.error, 'string');
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('report lines: metric', () => {
  test('fields in any order, step optional', () => {
    assert.deepEqual(parsed('::gbcms metric name=loss value=0.314 step=120'), {
      type: 'metric',
      name: 'loss',
      value: 0.314,
      step: 120,
      time: T,
    });
    assert.deepEqual(parsed('::gbcms metric value=-2.5e-3\tname=train/loss:avg'), {
      type: 'metric',
      name: 'train/loss:avg',
      value: -0.0025,
      time: T,
    });
    assert.equal((parsed('::gbcms metric name="loss" value="1"') as { value: number }).value, 1);
  });

  test('values must be finite decimal numbers', () => {
    for (const value of ['NaN', 'Infinity', '-Infinity', '1e999', '0x10', 'abc', '', '1,5', '"one"']) {
      assert.match(refused(`::gbcms metric name=loss value=${value}`), /finite number/, value);
    }
  });

  test('names: 1..128 characters of the allowed set', () => {
    assert.equal(
      (parsed(`::gbcms metric name=${'a'.repeat(128)} value=1`) as { name: string }).name.length,
      128,
    );
    assert.match(refused(`::gbcms metric name=${'a'.repeat(129)} value=1`), /at most 128/);
    assert.match(refused('::gbcms metric name=lo$s value=1'), /may only hold/);
    assert.match(refused('::gbcms metric name="" value=1'), /needs a name/);
    assert.match(refused('::gbcms metric value=1'), /needs a name/);
  });

  test('step: a whole number >= 0', () => {
    assert.equal((parsed('::gbcms metric name=a value=1 step=0') as { step: number }).step, 0);
    for (const step of ['-1', '1.5', 'x', '', '99999999999999999999']) {
      assert.match(refused(`::gbcms metric name=a value=1 step=${step}`), /whole number/, step);
    }
  });

  test('missing, unknown and repeated fields', () => {
    assert.match(refused('::gbcms metric name=loss'), /value is needed/);
    assert.match(refused('::gbcms metric name=loss value=1 unit=s'), /unknown field unit/);
    assert.match(refused('::gbcms metric name=loss value=1 value=2'), /given twice/);
    assert.match(refused('::gbcms metric name=loss value 1'), /expected key=value/);
  });
});

describe('report lines: progress', () => {
  test('done/total and an optional message, blanks around it dropped', () => {
    assert.deepEqual(parsed('::gbcms progress 45/100 training epoch 3  '), {
      type: 'progress',
      done: 45,
      total: 100,
      message: 'training epoch 3',
      time: T,
    });
    assert.deepEqual(parsed('::gbcms progress 0.5/1'), { type: 'progress', done: 0.5, total: 1, time: T });
    assert.deepEqual(parsed('::gbcms progress 3/3 "quotes stay"'), {
      type: 'progress',
      done: 3,
      total: 3,
      message: '"quotes stay"',
      time: T,
    });
  });

  test('total > 0 and done within it', () => {
    assert.match(refused('::gbcms progress 0/0'), /total must be a number > 0/);
    assert.match(refused('::gbcms progress 5/3'), /done must be a number from 0/);
    for (const text of [
      '::gbcms progress',
      '::gbcms progress 45',
      '::gbcms progress a/b',
      '::gbcms progress -1/5',
    ]) {
      assert.match(refused(text), /DONE\/TOTAL/, text);
    }
  });
});

describe('report lines: annotation', () => {
  test('title takes the rest of the line', () => {
    assert.deepEqual(parsed('::gbcms annotation level=warning file=src/a.ts line=3 title=Slow test: 5 s '), {
      type: 'annotation',
      level: 'warning',
      file: 'src/a.ts',
      line: 3,
      title: 'Slow test: 5 s',
      time: T,
    });
    assert.deepEqual(parsed('::gbcms annotation level=notice message=it took file=x long'), {
      type: 'annotation',
      level: 'notice',
      message: 'it took file=x long',
      time: T,
    });
  });

  test('quoted values with escapes, for any field', () => {
    assert.deepEqual(
      parsed(
        '::gbcms annotation level="error" file="my dir/a b.ts" title="say \\"hi\\"\\nthen \\\\ go" message=rest',
      ),
      {
        type: 'annotation',
        level: 'error',
        file: 'my dir/a b.ts',
        title: 'say "hi"\nthen \\ go',
        message: 'rest',
        time: T,
      },
    );
    assert.match(refused('::gbcms annotation level=error title="never ends'), /does not end/);
    assert.match(refused('::gbcms annotation level=error title="a"b'), /blank must follow/);
  });

  test('level, and a title or a message, are required', () => {
    assert.match(refused('::gbcms annotation title=x'), /level must be/);
    assert.match(refused('::gbcms annotation level=fatal title=x'), /level must be/);
    assert.match(refused('::gbcms annotation level=error file=a.ts'), /title or a message/);
    assert.match(refused('::gbcms annotation level=error title='), /title is empty/);
    assert.match(refused('::gbcms annotation level=error line=0 title=x'), /line must be/);
    assert.match(refused(`::gbcms annotation level=error title=${'x'.repeat(4097)}`), /at most 4096/);
  });
});

describe('report lines: what is not a command', () => {
  test('ordinary output is not looked at', () => {
    for (const text of [
      'loss=0.3',
      ' ::gbcms metric name=a value=1',
      '::gbcmsmetric name=a value=1',
      '::gbcms',
      '+ echo "::gbcms metric name=a value=1"',
    ]) {
      assert.equal(parseReportLine(text, T), undefined, text);
    }
  });

  test('an unknown command is an invalid report', () => {
    assert.match(refused('::gbcms metrics name=a value=1'), /unknown report command/);
  });
});

describe('reports-file lines', () => {
  test('JSON numbers and strings only, no unknown keys', () => {
    assert.deepEqual(parseReportJson('{"type":"metric","name":"loss","value":0.314,"step":120}', T), {
      ok: true,
      report: { type: 'metric', name: 'loss', value: 0.314, step: 120, time: T },
    });
    const refusedJson = (text: string) => {
      const result = parseReportJson(text, T);
      assert.equal(result.ok, false, text);
      return result.ok ? '' : result.error;
    };
    assert.match(refusedJson('{"type":"metric","name":"loss","value":"0.3"}'), /finite number/);
    assert.match(refusedJson('{"type":"metric","name":"loss","value":null}'), /finite number/);
    assert.match(refusedJson('{"type":"metric","name":"loss","value":1,"unit":"s"}'), /unknown field unit/);
    assert.match(refusedJson('{"type":"metric","name":"loss","value":1,"step":-1}'), /whole number/);
    assert.match(refusedJson('{"type":"metric","name":"loss","value":1,"time":"yesterday"}'), /ISO 8601/);
    assert.match(refusedJson('{"type":"progress","done":1,"total":2,"message":"a\\nb"}'), /one line/);
    assert.match(refusedJson('{"type":"tests","tests":1}'), /type must be/);
    assert.match(refusedJson('[1,2]'), /not a JSON object/);
    assert.match(refusedJson('{"type":"metric",'), /not JSON/);
    assert.match(
      refusedJson('{"__proto__":{},"type":"metric","name":"a","value":1}'),
      /unknown field __proto__/,
    );
  });

  test('a line may carry its own time', () => {
    const result = parseReportJson(
      '{"type":"progress","done":1,"total":2,"message":"half","time":"2026-05-01T10:00:00+02:00"}',
      T,
    );
    assert.deepEqual(result, {
      ok: true,
      report: { type: 'progress', done: 1, total: 2, message: 'half', time: '2026-05-01T08:00:00.000Z' },
    });
  });
});
