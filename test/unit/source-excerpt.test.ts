// The lines shown under a pipeline file's mistake: the line pointed at with two around it, the
// column kept right when a long line is cut to a window, nothing for a line the file lacks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sourceExcerpt } from '../../engine/source-excerpt.ts';

describe('sourceExcerpt', () => {
  const file = ['version: 1', 'steps:', '  build:', '    image: 5', '    commands: [make]', ''].join('\n');

  test('two lines before and after the one pointed at, numbered from the first shown', () => {
    assert.deepEqual(sourceExcerpt(file, 4, 12), {
      first: 2,
      lines: ['steps:', '  build:', '    image: 5', '    commands: [make]'],
      line: 4,
      col: 12,
    });
  });

  test('at the top of the file, and with CRLF line ends', () => {
    assert.deepEqual(sourceExcerpt(file.replaceAll('\n', '\r\n'), 1, 1), {
      first: 1,
      lines: ['version: 1', 'steps:', '  build:'],
      line: 1,
      col: 1,
    });
  });

  test('a line the file does not have gives nothing', () => {
    assert.equal(sourceExcerpt(file, 0), undefined);
    assert.equal(sourceExcerpt(file, 99), undefined);
    assert.equal(sourceExcerpt('', 2), undefined);
  });

  test('a long line is cut to a window around the column, which still points at the same character', () => {
    const long = `key: ${'a'.repeat(1000)}X${'b'.repeat(1000)}`;
    const at = long.indexOf('X') + 1;
    const excerpt = sourceExcerpt(long, 1, at);
    assert.ok(excerpt);
    const [line] = excerpt.lines;
    assert.ok(line !== undefined && line.length <= 162, `cut to a window: ${line?.length}`);
    assert.ok(line.startsWith('…') && line.endsWith('…'));
    assert.equal(line[excerpt.col - 1], 'X');
  });

  test('tabs show as one space each, so columns stay where they were', () => {
    const excerpt = sourceExcerpt('a:\tb', 1, 4);
    assert.equal(excerpt?.lines[0], 'a: b');
    assert.equal(excerpt?.lines[0]?.[3], 'b');
  });
});
