import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatLogLine, type LogLine, readLogFile } from '../../engine/logs/log-line.ts';
import { StepLog, type StepLogOptions } from '../../engine/logs/step-log.ts';

const secrets = ['hunter2-secret', 'tok_0123456789abcdef', 'p@ss w/rd&x'];
const root = mkdtempSync(join(tmpdir(), 'gbcms-steplog-'));
after(() => rmSync(root, { recursive: true, force: true }));

let files = 0;
function open(options: Partial<StepLogOptions> = {}) {
  const file = join(root, `step-${++files}`, 'log.jsonl');
  return { file, log: new StepLog({ file, secrets: [], ...options }) };
}

const out = (text: string | Buffer) => ({ stream: 'stdout' as const, data: Buffer.from(text) });
const err = (text: string | Buffer) => ({ stream: 'stderr' as const, data: Buffer.from(text) });

async function written(log: StepLog, file: string): Promise<LogLine[]> {
  await log.close();
  return readLogFile(file);
}

const texts = (lines: LogLine[]) => lines.map((l) => l.text);

describe('StepLog lines', () => {
  test('stores each stream as lines, in order, with increasing seq', async () => {
    const fixed = new Date('2025-01-02T03:04:05.000Z');
    const { file, log } = open({ now: () => fixed });
    log.write(out('out 1\nout '));
    log.write(err('err 1\n'));
    log.write(out('2\n'));
    log.system('retrying (attempt 2)');
    const lines = await written(log, file);
    assert.deepEqual(lines, [
      { seq: 1, time: fixed.toISOString(), stream: 'stdout', text: 'out 1' },
      { seq: 2, time: fixed.toISOString(), stream: 'stderr', text: 'err 1' },
      { seq: 3, time: fixed.toISOString(), stream: 'stdout', text: 'out 2' },
      { seq: 4, time: fixed.toISOString(), stream: 'system', text: 'retrying (attempt 2)' },
    ]);
    assert.equal(log.lines, 4);
    assert.equal(log.bytes, 'out 1\nerr 1\nout 2\n'.length);
  });

  test('a multi-byte character split across writes, invalid bytes, \\r handling', async () => {
    const { file, log } = open();
    const euro = Buffer.from('€');
    log.write(out(Buffer.concat([Buffer.from('price: 5'), euro.subarray(0, 1)])));
    log.write(out(euro.subarray(1, 2)));
    log.write(out(Buffer.concat([euro.subarray(2), Buffer.from('\r\n')])));
    log.write(err(Buffer.from([0x62, 0x61, 0x64, 0xfe, 0xff, 0x0a])));
    log.write(out('10%\r20%\r30%\ndone'));
    assert.deepEqual(texts(await written(log, file)), ['price: 5€', 'bad\ufffd\ufffd', '30%', 'done']);
  });

  test('lines from one write get one timestamp; seq follows file order', async () => {
    let tick = 0;
    const { file, log } = open({ now: () => new Date(Date.UTC(2025, 0, 1, 0, 0, tick++)) });
    for (let i = 0; i < 50; i++) log.write(i % 2 ? out(`o${i}\n`) : err(`e${i}\ne${i}b\n`));
    const lines = await written(log, file);
    assert.deepEqual(
      lines.map((l) => l.seq),
      lines.map((_, i) => i + 1),
    );
    assert.equal(lines[0]?.time, lines[1]?.time, 'both lines of the first write');
    assert.notEqual(lines[1]?.time, lines[2]?.time);
    assert.equal(lines.length, 75);
  });

  test('close() delivers an unterminated last line and is idempotent', async () => {
    const { file, log } = open();
    log.write(out('no newline at the end'));
    await Promise.all([log.close(), log.close()]);
    log.write(out('after close\n'));
    const lines = await readLogFile(file);
    assert.deepEqual(
      lines.map((l) => [l.seq, l.stream, l.text, l.partial]),
      [[1, 'stdout', 'no newline at the end', undefined]],
    );
  });
});

describe('StepLog attempts', () => {
  test('endLines() ends held lines so the next attempt starts on a line of its own', async () => {
    const { file, log } = open();
    log.write(out('attempt 1 died mid-li'));
    log.write(err(Buffer.from([0xe2, 0x82])));
    log.endLines();
    log.system('retrying: attempt 2 of 2');
    log.write(out('attempt 2\n'));
    log.write(err(Buffer.from([0xac, 0x0a])));
    assert.deepEqual(
      (await written(log, file)).map((l) => [l.stream, l.text]),
      [
        ['stdout', 'attempt 1 died mid-li'],
        ['stderr', '\ufffd'],
        ['system', 'retrying: attempt 2 of 2'],
        ['stdout', 'attempt 2'],
        ['stderr', '\ufffd'],
      ],
    );
  });
});

describe('StepLog partial lines', () => {
  test('a line without newline shows up after partialFlushMs of silence', async () => {
    const { file, log } = open({ partialFlushMs: 30 });
    const seen: LogLine[] = [];
    log.subscribe((line) => seen.push(line));
    log.write(out('Password: '));
    assert.equal(seen.length, 0, 'not before the silence');
    await sleep(120);
    assert.deepEqual(
      seen.map((l) => [l.text, l.partial]),
      [['Password: ', true]],
    );
    log.write(out('\nthank you\n'));
    const lines = await written(log, file);
    assert.deepEqual(
      lines.map((l) => [l.text, l.partial]),
      [
        ['Password: ', true],
        ['thank you', undefined],
      ],
    );
  });

  test('text after a flushed partial line starts a new line', async () => {
    const { file, log } = open({ partialFlushMs: 20 });
    log.write(out('downloading'));
    await sleep(80);
    log.write(out('... done\n'));
    assert.deepEqual(
      (await written(log, file)).map((l) => [l.text, l.partial]),
      [
        ['downloading', true],
        ['... done', undefined],
      ],
    );
  });

  test('a partial flush holds back a tail that could start a secret', async () => {
    const secret = 'hunter2-secret';
    const { file, log } = open({ partialFlushMs: 20, secrets: [secret] });
    const seen: LogLine[] = [];
    log.subscribe((line) => seen.push(line));
    log.write(out('key=hunter2-s'));
    await sleep(80);
    assert.deepEqual(
      seen.map((l) => l.text),
      ['key='],
    );
    log.write(out('ecret done\n'));
    const lines = await written(log, file);
    assert.deepEqual(texts(lines), ['key=', '*** done']);
  });
});

describe('StepLog masking', () => {
  test('a secret split across two and three writes', async () => {
    const { file, log } = open({ secrets });
    log.write(out('my pass: hun'));
    log.write(out('ter2-sec'));
    log.write(out('ret, my token: tok_0123'));
    log.write(err('tok_0123456789abcdef on stderr\n'));
    log.write(out('456789abcdef\n'));
    assert.deepEqual(texts(await written(log, file)), ['*** on stderr', 'my pass: ***, my token: ***']);
  });

  test('a secret split at every byte boundary', async () => {
    const text = Buffer.from('x hunter2-secret y\n');
    for (let i = 0; i <= text.length; i++) {
      const { file, log } = open({ secrets });
      log.write(out(text.subarray(0, i)));
      log.write(out(text.subarray(i)));
      assert.deepEqual(texts(await written(log, file)), ['x *** y'], `split at ${i}`);
    }
  });

  test('base64 and URL-encoded forms', async () => {
    const { file, log } = open({ secrets });
    log.write(out(`basic ${Buffer.from('hunter2-secret').toString('base64')}\n`));
    log.write(out(`url ${Buffer.from('tok_0123456789abcdef').toString('base64url')}\n`));
    log.write(out(`GET /?p=${encodeURIComponent('p@ss w/rd&x')}\n`));
    assert.deepEqual(texts(await written(log, file)), ['basic ***', 'url ***', 'GET /?p=***']);
  });

  test('multiline secrets and engine lines are masked too', async () => {
    const key = '-----BEGIN KEY-----\nMIIEvQIBADANBgkq\n-----END KEY-----';
    const { file, log } = open({ secrets: [key] });
    log.write(out(`${key}\n`));
    log.system('loaded MIIEvQIBADANBgkq');
    assert.deepEqual(texts(await written(log, file)), ['***', '***', '***', 'loaded ***']);
  });

  test('nothing of a secret reaches the file or the listeners', async () => {
    const { file, log } = open({ secrets, partialFlushMs: 5 });
    const seen: string[] = [];
    log.subscribe((line) => seen.push(line.text));
    const text = 'a hunter2-secret b tok_0123456789abcdef c\n'.repeat(20);
    for (let i = 0; i < text.length; i += 7) {
      log.write(out(text.slice(i, i + 7)));
      if (i % 49 === 0) await sleep(10);
    }
    await log.close();
    const raw = (await readLogFile(file)).map((l) => l.text).join('');
    for (const secret of ['hunter2-secret', 'tok_0123456789abcdef']) {
      assert.ok(!raw.includes(secret), 'file');
      assert.ok(!seen.join('').includes(secret), 'listeners');
    }
    assert.ok(raw.includes('***'));
  });
});

describe('StepLog runs of plain lines', () => {
  test('a chunk of plain lines is one record in the file and reads back line by line', async () => {
    const { file, log } = open({ secrets });
    const seen: LogLine[] = [];
    log.subscribe((line) => seen.push(line));
    log.write(out(`one\n\nhunter2-secret here\nfour\nhalf`));
    log.write(err('oops\n'));
    log.write(out(' and more\n'));
    const lines = await written(log, file);
    const records = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(records.length, 3, 'one record per chunk');
    assert.deepEqual(
      lines.map((l) => [l.seq, l.stream, l.text]),
      [
        [1, 'stdout', 'one'],
        [2, 'stdout', ''],
        [3, 'stdout', '*** here'],
        [4, 'stdout', 'four'],
        [5, 'stderr', 'oops'],
        [6, 'stdout', 'half and more'],
      ],
    );
    assert.deepEqual(seen, lines, 'listeners get the same lines, one by one');
    assert.equal(log.bytes, 'one\n\n*** here\nfour\noops\nhalf and more\n'.length);
  });

  test('report lines inside a run are stored alone and flagged; a notice follows the lines before it', async () => {
    const { file, log } = open({
      reports: {
        prefix: '::r ',
        classify(line) {
          if (line.text === '::r ok') return true;
          log.system(`notice: bad report line ${line.text}`);
          return false;
        },
      },
    });
    log.write(out('a\n::r ok\nb\n::r bad\nc\n::rx not offered\n'));
    const lines = await written(log, file);
    assert.deepEqual(
      lines.map((l) => [l.seq, l.stream, l.text, l.report ?? false]),
      [
        [1, 'stdout', 'a', false],
        [2, 'stdout', '::r ok', true],
        [3, 'stdout', 'b', false],
        [4, 'system', 'notice: bad report line ::r bad', false],
        [5, 'stdout', '::r bad', false],
        [6, 'stdout', 'c', false],
        [7, 'stdout', '::rx not offered', false],
      ],
    );
  });

  test('the cap falls on the exact line inside a run', async () => {
    const { file, log } = open({ maxBytes: 250 });
    log.write(out(`${'y'.repeat(49)}\n`.repeat(10)));
    const lines = await written(log, file);
    assert.deepEqual(
      lines.map((l) => l.stream),
      ['stdout', 'stdout', 'stdout', 'stdout', 'stdout', 'system'],
      '5 lines of 50 bytes fit in 250, the 6th does not',
    );
    assert.equal(lines.at(-1)?.truncated, true);
  });
});

describe('StepLog cap', () => {
  test('stops storing at maxBytes, writes one marker, keeps counting, memory stays flat', async () => {
    const cap = 1024 * 1024;
    const { file, log } = open({ maxBytes: cap });
    const chunk = Buffer.from(`${'x'.repeat(999)}\n`.repeat(64));
    const total = 50 * 1024 * 1024;
    const heapBefore = process.memoryUsage().heapUsed;
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!log.write(out(chunk))) await log.drained();
    }
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    log.system('step ended');
    await log.close();
    assert.equal(log.truncated, true);
    assert.ok(log.bytes >= total, `bytes ${log.bytes}`);
    const size = statSync(file).size;
    assert.ok(size > cap && size < cap * 1.2, `file size ${size}`);
    assert.ok(heapGrowth < 32 * 1024 * 1024, `heap grew ${heapGrowth}`);
    const lines = await readLogFile(file);
    const markers = lines.filter((l) => l.truncated);
    assert.equal(markers.length, 1);
    assert.equal(formatLogLine(markers[0] as LogLine), '[gbcms] log truncated at 1 MiB; the step goes on');
    assert.deepEqual(lines.at(-1), { ...lines.at(-1), stream: 'system', text: 'step ended' });
    const stored = lines.filter((l) => l.stream === 'stdout').reduce((n, l) => n + l.text.length + 1, 0);
    assert.ok(stored <= cap);
  });

  test('the default cap is 64 MiB', async () => {
    const { file, log } = open();
    log.write(out('fine\n'));
    await log.close();
    assert.equal(log.truncated, false);
    assert.equal((await readLogFile(file)).length, 1);
  });

  test('an endless line without newline is stored in pieces of at most 1 MiB', async () => {
    const { file, log } = open({ maxBytes: 16 * 1024 * 1024 });
    const chunk = Buffer.alloc(256 * 1024, 'y');
    for (let i = 0; i < 20; i++) log.write(out(chunk));
    const lines = await written(log, file);
    assert.ok(lines.length >= 5);
    assert.ok(lines.every((l) => l.text.length <= 1024 * 1024));
    assert.equal(
      lines.reduce((n, l) => n + l.text.length, 0),
      20 * chunk.length,
    );
    assert.ok(lines.slice(0, -1).every((l) => l.partial === true));
  });
});

describe('StepLog subscribers and file', () => {
  test('subscribe receives live lines until unsubscribed; a throwing listener is harmless', async () => {
    const { file, log } = open();
    const seen: string[] = [];
    const stop = log.subscribe((line) => seen.push(line.text));
    log.subscribe(() => {
      throw new Error('broken viewer');
    });
    log.write(out('one\ntwo\n'));
    stop();
    log.write(out('three\n'));
    assert.deepEqual(seen, ['one', 'two']);
    assert.deepEqual(texts(await written(log, file)), ['one', 'two', 'three']);
  });

  test('readLogFile skips a torn last record', async () => {
    const { file, log } = open();
    log.write(out('kept\n'));
    await log.close();
    appendFileSync(file, '{"seq":2,"time":"2025-');
    assert.deepEqual(texts(await readLogFile(file)), ['kept']);
  });

  test('formatLogLine', () => {
    const line: LogLine = { seq: 1, time: '2025-01-01T00:00:00.000Z', stream: 'stdout', text: 'hello' };
    assert.equal(formatLogLine(line), 'hello');
    assert.equal(formatLogLine(line, { timestamps: true }), '2025-01-01T00:00:00.000Z hello');
    assert.equal(formatLogLine({ ...line, stream: 'system', text: 'retrying' }), '[gbcms] retrying');
  });

  test('throughput: 100 MB with 3 secrets (printed, not asserted)', async () => {
    const { file, log } = open({ secrets, maxBytes: 1024 ** 3 });
    const line =
      'npm info lifecycle pkg@1.2.3~postinstall: pkg@1.2.3 compiling src/index.ts -> dist/index.js\n';
    const chunk = Buffer.from(line.repeat(700));
    const total = 100 * 1024 * 1024;
    const start = performance.now();
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!log.write(out(chunk))) await log.drained();
    }
    await log.close();
    const seconds = (performance.now() - start) / 1000;
    console.log(`StepLog throughput: ${(total / 1e6 / seconds).toFixed(0)} MB/s (${log.lines} lines)`);
    assert.equal(log.lines, Math.ceil(total / chunk.length) * 700);
    assert.ok(statSync(file).size > total);
  });
});
