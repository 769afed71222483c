// Ranges of a stored step log: multi-line records, the tail read from the end, a log that grows
// between reads, `+ command` lines, torn records, and reads that come together.
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

test('ranges across checkpoints; the tail first; commands once indexed', async () => {
  const file = join(dir, 'big.log');
  await writeFile(file, bigLog());
  const tail = await readLogRange(file, undefined, 4);
  assert.equal(tail.total, 3000);
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
  // Indexed now, the tail still answers, with the commands.
  assert.equal((await readLogRange(file, undefined, 1)).commands.length, 10);
});

test('a log that grows is read on from where the scan stopped; a torn record is skipped', async () => {
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
