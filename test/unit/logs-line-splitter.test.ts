import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineSplitter, type SafeCut, type SplitLine, visibleText } from '../../engine/logs/line-splitter.ts';

function split(chunks: (string | Buffer)[], options: { maxLineChars?: number; safeCut?: SafeCut } = {}) {
  const splitter = new LineSplitter(options);
  const out: SplitLine[] = [];
  for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, out);
  splitter.end(out);
  return lines(out);
}

/** Runs of plain lines (`several`) as the lines they hold, as a log stores them. */
function lines(out: SplitLine[]): SplitLine[] {
  return out.flatMap((l) => (l.several ? l.text.split('\n').map((text) => ({ text, partial: false })) : [l]));
}

const texts = (lines: SplitLine[]) => lines.map((l) => l.text);

describe('LineSplitter', () => {
  test('splits on \\n and treats \\r\\n as one newline, also across chunks', () => {
    assert.deepEqual(texts(split(['a\nb\r\nc\n'])), ['a', 'b', 'c']);
    assert.deepEqual(texts(split(['a\r', '\nb\n'])), ['a', 'b']);
    assert.deepEqual(texts(split(['\n\n'])), ['', '']);
  });

  test('multi-byte characters survive a split at every byte boundary', () => {
    const text = 'héllo 🎉 wörld €\n';
    const bytes = Buffer.from(text);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const lines = split([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
        assert.deepEqual(texts(lines), ['héllo 🎉 wörld €'], `split at ${i},${j}`);
      }
    }
  });

  test('one byte at a time', () => {
    const bytes = Buffer.from('日本語\nok\n');
    const lines = split([...bytes].map((b) => Buffer.from([b])));
    assert.deepEqual(texts(lines), ['日本語', 'ok']);
  });

  test('invalid UTF-8 becomes U+FFFD and never throws', () => {
    assert.deepEqual(texts(split([Buffer.from([0x61, 0xff, 0x62, 0x0a])])), ['a\ufffdb']);
    assert.deepEqual(texts(split([Buffer.from([0xc3, 0x28, 0x0a])])), ['\ufffd(']);
    // A character cut off by the end of the stream.
    assert.deepEqual(texts(split([Buffer.from([0x61, 0xe2, 0x82])])), ['a\ufffd']);
  });

  test('carriage-return progress bars keep the visible text', () => {
    assert.deepEqual(texts(split(['10%\r20%\r30%\n'])), ['30%']);
    assert.deepEqual(texts(split(['10%\r', '20%\r', '30%\r\n', 'next\n'])), ['30%', 'next']);
    assert.deepEqual(texts(split(['done\r\r\n'])), ['done']);
    assert.deepEqual(texts(split(['\r\n'])), ['']);
  });

  test('visibleText', () => {
    assert.equal(visibleText('a\rbb\rccc'), 'ccc');
    assert.equal(visibleText('abc\r'), 'abc');
    assert.equal(visibleText('\r\r'), '');
    assert.equal(visibleText('plain'), 'plain');
  });

  test('a progress bar without newline holds only its visible text', () => {
    const splitter = new LineSplitter();
    const out: SplitLine[] = [];
    for (let i = 0; i < 100_000; i++) splitter.push(Buffer.from(`${i}%\r`), out);
    assert.deepEqual(out, []);
    splitter.flushPartial(out);
    assert.deepEqual(out, [{ text: '99999%', partial: true }]);
  });

  test('lines longer than the cap are cut into partial pieces', () => {
    const lines = split(['abcdefghijklmnopqrstuvwxyz\n'], { maxLineChars: 10 });
    assert.deepEqual(lines, [
      { text: 'abcdefghij', partial: true },
      { text: 'klmnopqrst', partial: true },
      { text: 'uvwxyz', partial: false },
    ]);
  });

  test('an endless line without newline is cut while it arrives', () => {
    const splitter = new LineSplitter({ maxLineChars: 8 });
    const out: SplitLine[] = [];
    for (let i = 0; i < 10; i++) splitter.push(Buffer.from('abcd'), out);
    assert.deepEqual(texts(out), ['abcdabcd', 'abcdabcd', 'abcdabcd', 'abcdabcd']);
    assert.ok(out.every((l) => l.partial));
    splitter.push(Buffer.from('\n'), out);
    assert.deepEqual(out.at(-1), { text: 'abcdabcd', partial: false });
  });

  test('a cut never splits a surrogate pair', () => {
    const lines = split([`abc${'🎉'.repeat(5)}\n`], { maxLineChars: 4 });
    assert.equal(lines.map((l) => l.text).join(''), `abc${'🎉'.repeat(5)}`);
    const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    for (const { text } of lines) assert.doesNotMatch(text, loneSurrogate);
  });

  test('flushPartial emits the held text; its newline adds no empty line', () => {
    const splitter = new LineSplitter();
    const out: SplitLine[] = [];
    splitter.push(Buffer.from('Password: '), out);
    assert.equal(splitter.hasPending, true);
    splitter.flushPartial(out);
    assert.deepEqual(out, [{ text: 'Password: ', partial: true }]);
    splitter.push(Buffer.from('\nnext line\n'), out);
    assert.deepEqual(out.slice(1), [{ text: 'next line', partial: false }]);
  });

  test('the continuation after a partial flush starts a new line', () => {
    const splitter = new LineSplitter();
    const out: SplitLine[] = [];
    splitter.push(Buffer.from('downloading'), out);
    splitter.flushPartial(out);
    splitter.push(Buffer.from('... done\n'), out);
    assert.deepEqual(out, [
      { text: 'downloading', partial: true },
      { text: '... done', partial: false },
    ]);
  });

  test('flushPartial holds back what safeCut keeps', () => {
    const safeCut: SafeCut = (text) => {
      const i = text.indexOf('sec');
      return i === -1 ? text.length : i;
    };
    const splitter = new LineSplitter({ safeCut });
    const out: SplitLine[] = [];
    splitter.push(Buffer.from('token=sec'), out);
    splitter.flushPartial(out);
    assert.deepEqual(out, [{ text: 'token=', partial: true }]);
    splitter.flushPartial(out);
    assert.equal(out.length, 1, 'a fully held tail is not emitted');
    splitter.push(Buffer.from('ret!\n'), out);
    assert.deepEqual(out[1], { text: 'secret!', partial: false });
  });

  test('a chunk of plain lines comes out as one run; \r, held text and overlong lines do not', () => {
    const splitter = new LineSplitter({ maxLineChars: 20 });
    const out: SplitLine[] = [];
    splitter.push(Buffer.from('one\ntwo\n\nthree\nhalf'), out);
    assert.deepEqual(out, [{ text: 'one\ntwo\n\nthree', partial: false, several: true }]);
    out.length = 0;
    splitter.push(Buffer.from(' done\nnext\n'), out);
    assert.deepEqual(
      out,
      [{ text: 'half done\nnext', partial: false, several: true }],
      'the held start joins the run',
    );
    out.length = 0;
    splitter.push(Buffer.from('10%\r20%\nok\n'), out);
    assert.deepEqual(out, [
      { text: '20%', partial: false },
      { text: 'ok', partial: false },
    ]);
    out.length = 0;
    splitter.push(Buffer.from(`${'x'.repeat(25)}\n`), out);
    assert.deepEqual(lines(out), [
      { text: 'x'.repeat(20), partial: true },
      { text: 'x'.repeat(5), partial: false },
    ]);
  });

  test('end() delivers an unterminated last line', () => {
    assert.deepEqual(split(['a\nlast']), [
      { text: 'a', partial: false },
      { text: 'last', partial: false },
    ]);
  });
});
