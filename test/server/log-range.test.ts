// Ranges of a stored step log: multi-line records, the tail read from the end, a log that grows
// between reads, `+ command` lines, torn records, and reads that come together; in a log of
// megabytes never read before: any line found by bisection, records longer than one read,
// characters split between two reads.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readLogRange } from '../../server/executions/log-range.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gbcms-log-range-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const TIME = '2026-01-01T00:00:00.000Z';
const record = (seq: number, text: string) =>
  `${JSON.stringify({ seq, time: TIME, stream: 'stdout', text })}\n`;

/** 1,000 records of 3 lines each; every 100th record starts with a command. */
function bigLog(): string {
  let out = '';
  for (let i = 0; i < 1000; i++) {
    const seq = i * 3 + 1;
    const first = i % 100 === 0 ? `+ make part-${i}` : `line ${seq}`;
    out += record(seq, [first, `line ${seq + 1}`, `line ${seq + 2}`].join('\n'));
  }
  return out;
}

test('ranges of a log read for the first time; the tail first; commands once listed', async () => {
  const file = join(dir, 'big.log');
  await writeFile(file, bigLog());
  const tail = await readLogRange(file, undefined, 4);
  assert.equal(tail.total, 3000);
  // Not listed yet: the tail names the commands among its own lines, and says so.
  assert.deepEqual([tail.commands, tail.commandsPartial], [[], true]);
  assert.deepEqual(
    tail.lines.map((line) => line.text),
    ['line 2997', 'line 2998', 'line 2999', 'line 3000'],
  );
  const middle = await readLogRange(file, 1500, 3);
  assert.deepEqual(
    middle.lines.map((line) => [line.seq, line.text]),
    [
      [1500, 'line 1500'],
      [1501, '+ make part-500'],
      [1502, 'line 1502'],
    ],
  );
  assert.deepEqual(
    middle.commands,
    Array.from({ length: 10 }, (_, i) => i * 300 + 1),
  );
  // Listed now, the tail still answers, with all the commands.
  const listed = await readLogRange(file, undefined, 1);
  assert.deepEqual([listed.commands.length, listed.commandsPartial], [10, undefined]);
});

test('a log that grows: new lines and commands are found, a torn record is skipped', async () => {
  const file = join(dir, 'live.log');
  await writeFile(file, record(1, 'one') + record(2, 'two'));
  assert.equal((await readLogRange(file, 1, 10)).total, 2);
  await appendFile(file, `{"seq":3,"time":"${TIME}","stre\n${record(4, '+ four')}`);
  const grown = await readLogRange(file, 1, 10);
  assert.deepEqual(
    grown.lines.map((line) => line.seq),
    [1, 2, 4],
  );
  assert.equal(grown.total, 4);
  assert.deepEqual(grown.commands, [4]);
  // A record still being written (no line break yet) is not a line yet.
  await appendFile(file, '{"seq":5,"time"');
  assert.equal((await readLogRange(file, undefined, 10)).total, 4);
});

test('reads that come together share one scan and agree', async () => {
  const file = join(dir, 'together.log');
  await writeFile(file, bigLog());
  const answers = await Promise.all([1, 700, 1400, 2100, 2800].map((from) => readLogRange(file, from, 2)));
  assert.deepEqual(
    answers.map((answer) => [answer.total, answer.lines[0]?.seq]),
    [
      [3000, 1],
      [3000, 700],
      [3000, 1400],
      [3000, 2100],
      [3000, 2800],
    ],
  );
});

test('a step without a log file has no lines', async () => {
  assert.deepEqual(await readLogRange(join(dir, 'missing.log'), undefined, 10), {
    total: 0,
    lines: [],
    commands: [],
  });
  assert.deepEqual(await readLogRange(join(dir, 'missing.log'), 1, 10), {
    total: 0,
    lines: [],
    commands: [],
  });
});

/** `records` records of 5 lines, about 100 bytes each: a few megabytes. */
function megabytes(records: number): string {
  const out: string[] = [];
  for (let i = 0; i < records; i++) {
    const seq = i * 5 + 1;
    const lines = Array.from(
      { length: 5 },
      (_, j) => `${seq + j === 77_777 ? '+ deploy' : 'line'} ${seq + j} ${'.'.repeat(80)}`,
    );
    out.push(record(seq, lines.join('\n')));
  }
  return out.join('');
}

test('any line of a log of megabytes, the first time, lands on its number', async () => {
  const file = join(dir, 'megabytes.log');
  await writeFile(file, megabytes(40_000));
  const tail = await readLogRange(file, undefined, 500);
  assert.equal(tail.total, 200_000);
  assert.deepEqual([tail.lines[0]?.seq, tail.lines.at(-1)?.seq, tail.lines.length], [199_501, 200_000, 500]);
  assert.ok(tail.lines.every((line, i) => line.text.startsWith(`line ${199_501 + i} `)));
  for (const from of [1, 2, 5, 6, 99_999, 100_000, 123_457, 199_996, 200_000]) {
    const range = await readLogRange(file, from, 7);
    const expected = Array.from({ length: Math.min(7, 200_001 - from) }, (_, i) => from + i);
    assert.deepEqual(
      range.lines.map((line) => line.seq),
      expected,
      `from ${from}`,
    );
    assert.equal(range.total, 200_000);
    assert.deepEqual(range.commands, [77_777]);
  }
  assert.deepEqual((await readLogRange(file, 200_001, 10)).lines, []);
});

test('records longer than a read, torn records and characters split between reads', async () => {
  const file = join(dir, 'long.log');
  const long = 'x'.repeat(700 * 1024);
  // Three-byte characters at every offset, so some fall across a read's edge.
  const wide = '€'.repeat(200 * 1024);
  const torn = '{"seq":4,"time":"2026-01-01T00:00:00.000Z","stre\n';
  let text = record(1, 'first') + record(2, long) + record(3, wide) + torn;
  for (let seq = 5; seq < 3000; seq++) text += record(seq, seq === 2500 ? long : `line ${seq}`);
  text += record(3000, wide);
  await writeFile(file, text);
  const tail = await readLogRange(file, undefined, 2);
  assert.deepEqual(
    tail.lines.map((line) => [line.seq, line.text.length]),
    [
      [2999, 'line 2999'.length],
      [3000, wide.length],
    ],
  );
  assert.equal(tail.lines[1]?.text, wide);
  const start = await readLogRange(file, 1, 5);
  assert.deepEqual(
    start.lines.map((line) => line.seq),
    [1, 2, 3, 5, 6],
  );
  assert.equal(start.lines[2]?.text, wide);
  for (const from of [2, 2499, 2500, 2501]) {
    assert.equal((await readLogRange(file, from, 1)).lines[0]?.seq, from, `from ${from}`);
  }
  assert.equal((await readLogRange(file, 2500, 1)).lines[0]?.text, long);
  // The tail of a record longer than a read, the last one written.
  const alone = join(dir, 'alone.log');
  await writeFile(alone, record(1, 'a') + record(2, long) + record(3, long));
  assert.deepEqual(
    (await readLogRange(alone, undefined, 2)).lines.map((line) => [line.seq, line.text.length]),
    [
      [2, long.length],
      [3, long.length],
    ],
  );
  const whole = await readLogRange(alone, undefined, 10);
  assert.deepEqual([whole.lines.length, whole.commandsPartial], [3, undefined]);
});
