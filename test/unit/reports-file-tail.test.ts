import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileTail, type FileTailOptions } from '../../engine/reports/file-tail.ts';
import { pollUntil } from '../helpers/poll.ts';

/** A file that grows as the test appends to it, read the way the engine reads a step's file. */
function growingFile() {
  let content = Buffer.alloc(0);
  let reads = 0;
  let failing: Error | undefined;
  return {
    append(text: string | Buffer) {
      content = Buffer.concat([content, Buffer.from(text)]);
    },
    fail(error: Error | undefined) {
      failing = error;
    },
    get reads() {
      return reads;
    },
    read: async (offset: number, maxBytes: number): Promise<Buffer | undefined> => {
      reads += 1;
      if (failing) throw failing;
      if (content.length === 0) return undefined;
      return content.subarray(offset, offset + maxBytes);
    },
  };
}

function tail(file: ReturnType<typeof growingFile>, options: Partial<FileTailOptions> = {}) {
  const lines: string[] = [];
  const problems: string[] = [];
  const tail = new FileTail({
    read: file.read,
    onLine: (line) => lines.push(line),
    onProblem: (message) => problems.push(message),
    ...options,
  });
  return { tail, lines, problems };
}

describe('reports file tail', () => {
  test('a partial last line is held back until its newline arrives', async () => {
    const file = growingFile();
    const { tail: t, lines } = tail(file);
    await t.poll();
    assert.deepEqual(lines, []);
    file.append('{"a":1}\n{"b":');
    await t.poll();
    assert.deepEqual(lines, ['{"a":1}']);
    file.append('2}\r\n\n{"c":3}\n{"d"');
    await t.poll();
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
    assert.equal(t.offset, Buffer.byteLength('{"a":1}\n{"b":2}\r\n\n{"c":3}\n{"d"'));
    t.finish();
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}', '{"d"']);
  });

  test('a character split across reads is decoded whole', async () => {
    const file = growingFile();
    const { tail: t, lines } = tail(file);
    const bytes = Buffer.from('{"m":"héllo ✓"}\n');
    file.append(bytes.subarray(0, 8));
    await t.poll();
    file.append(bytes.subarray(8, 16));
    await t.poll();
    file.append(bytes.subarray(16));
    await t.poll();
    assert.deepEqual(lines, ['{"m":"héllo ✓"}']);
  });

  test('polls on its own while started; stop() reads once more', async () => {
    const file = growingFile();
    const { tail: t, lines } = tail(file, { intervalMs: 10 });
    t.start();
    file.append('one\n');
    await pollUntil('the first poll', () => lines.length > 0);
    assert.deepEqual(lines, ['one']);
    file.append('two\n');
    await t.stop();
    assert.deepEqual(lines, ['one', 'two']);
    const reads = file.reads;
    file.append('three\n');
    await sleep(50);
    assert.equal(file.reads, reads, 'no polling after stop()');
    t.start();
    await t.stop();
    assert.deepEqual(lines, ['one', 'two', 'three'], 'a restart goes on from the same offset');
  });

  test('reading stops at the byte cap, said once', async () => {
    const file = growingFile();
    const { tail: t, lines, problems } = tail(file, { maxBytes: 10 });
    file.append('12345\n7890\nabc\n');
    await t.poll();
    await t.poll();
    assert.deepEqual(lines, ['12345']);
    assert.equal(t.offset, 10);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /passed 10 bytes/);
  });

  test('an overlong line is skipped up to its newline and said once', async () => {
    const file = growingFile();
    const { tail: t, lines, problems } = tail(file, { maxLineBytes: 8 });
    file.append('ok\n0123456789');
    await t.poll();
    file.append('abcdef');
    await t.poll();
    file.append('ghi\nfine\n123456789\nlast\n');
    await t.poll();
    assert.deepEqual(lines, ['ok', 'fine', 'last']);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /longer than 8 bytes/);
  });

  test('a failed read is retried by the next poll, and reported if the last one fails', async () => {
    const file = growingFile();
    const { tail: t, lines, problems } = tail(file);
    file.append('a\n');
    file.fail(new Error('engine hiccup'));
    await t.poll();
    assert.deepEqual(lines, []);
    file.fail(undefined);
    await t.poll();
    assert.deepEqual(lines, ['a']);
    assert.deepEqual(problems, []);
    file.fail(new Error('container gone'));
    await t.stop();
    assert.deepEqual(problems, ['could not read $GBCMS_REPORTS: container gone']);
  });
});
