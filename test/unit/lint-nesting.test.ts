import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseDocument, stringify } from 'yaml';
import { findExcessNesting, MAX_NESTING } from '../../engine/lint/nesting.ts';
import { assertLinear, GROWTH } from '../helpers/growth.ts';

/** Collection depth as the parsed tree counts it: the top-level mapping is level 1. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object')
    return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

const nested = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('list'), tie('map')),
  // Scalars that look like YAML structure, to catch a scan that mistakes text for nesting.
  leaf: fc.oneof(
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(
      'a: b',
      '[x',
      '{',
      '"q',
      "'",
      '- x',
      '#c',
      '|',
      '>-',
      'multi\nline\n[text',
      '  lead',
      ':x',
    ),
  ),
  list: fc.array(tie('node'), { maxLength: 3 }),
  map: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('node'), { maxKeys: 3 }),
})).node;
const document = fc.oneof(
  fc.array(nested, { minLength: 1 }),
  fc.dictionary(fc.string({ minLength: 1 }), nested, { minKeys: 1 }),
);

describe('findExcessNesting', () => {
  test('never reports a document at exactly its own depth (no false positives)', () => {
    fc.assert(
      fc.property(document, fc.constantFrom('block', 'flow', 'any'), (value, style) => {
        const text = stringify(value, { collectionStyle: style });
        assert.equal(findExcessNesting(text, depthOf(value)), undefined, text);
      }),
      { numRuns: 1500 },
    );
  });

  test('is exact for flow style: one level less is reported', () => {
    fc.assert(
      fc.property(document, (value) => {
        const text = stringify(value, { collectionStyle: 'flow' });
        assert.notEqual(findExcessNesting(text, depthOf(value) - 1), undefined, text);
      }),
      { numRuns: 1500 },
    );
  });

  test('a quote inside a plain scalar does not open a string (found by the property above)', () => {
    const text = '[ [ { " ": [ { " ": { -\':"#: null } }, [ "a: b", [] ] ] }, null ] ]\n';
    assert.equal(findExcessNesting(text, 6), undefined);
    assert.notEqual(findExcessNesting(text, 5), undefined);
  });

  test('reports the offset of the first level past the limit', () => {
    assert.equal(findExcessNesting('[[[x]]]', 2), 2);
    assert.equal(findExcessNesting('[[[x]]]', 3), undefined);
    assert.equal(findExcessNesting('a: {b: [c]}', 3), undefined);
    assert.equal(findExcessNesting('a: {b: [c]}', 2), 7);
    assert.equal(findExcessNesting('- - - x', 2), 4);
    assert.equal(findExcessNesting('a:\n  b:\n    c: 1\n', 2), 12);
  });

  test('reads block structure: compact sequences, keys after dashes, indentation', () => {
    const text = 'steps:\n  a:\n    - - x\n    - k: [1]\n';
    // root(1) > steps(2) > a's list(3) > inner list(4); k's mapping(4) > [1](5)
    assert.equal(findExcessNesting(text, 5), undefined);
    assert.notEqual(findExcessNesting(text, 4), undefined);
  });

  test('brackets, quotes and dashes inside scalars are text, not nesting', () => {
    const text = [
      'steps:',
      '  a:',
      '    commands:',
      '      - echo [[[[[[ {{{{',
      '      - "[[[[ \\" [[[["',
      "      - '[[[[ '' [[[['",
      '      - |',
      '        [[[[[[[[[[',
      '        - - - - - -',
      '      - >-',
      '        {{{{{{{{',
      '      - a plain scalar',
      '        continued [[[[[[',
      '      - x # comment [[[[[[',
      '    when: {branch: "a[[[[", tag: \'b{{{{\', path: c:d}',
    ].join('\n');
    assert.equal(parseDocument(text).errors.length, 0);
    assert.equal(findExcessNesting(text, 4), undefined);
  });

  test('a block scalar ends where its indentation does', () => {
    const text = `a: |\n    text\n  ${'['.repeat(10)}`;
    assert.notEqual(findExcessNesting(text, 5), undefined);
  });

  test('quoted scalars spanning lines hide their brackets until they close', () => {
    assert.equal(findExcessNesting('a: "x\n  [[[[[[\n  y"\nb: 1\n', 2), undefined);
    assert.notEqual(findExcessNesting('a: [\n  "x\n  [[[",\n  [[[x]]]]\n', 3), undefined);
  });

  test('catches hostile depth in a linear scan, whatever the form', () => {
    // Each form at a size, and 16× larger: the scan may cost no more per character.
    const flat: [string, (size: number) => string, number][] = [
      ['nested [', (n) => '['.repeat(n), 31_250],
      ['nested {a: ', (n) => '{a: '.repeat(n), 12_500],
      ['compact sequences', (n) => `${'- '.repeat(n)}x`, 25_000],
    ];
    for (const [form, text, size] of flat) {
      assert.notEqual(findExcessNesting(text(GROWTH * size)), undefined, form);
      assertLinear(form, text, (input) => findExcessNesting(input), size, 5);
    }
    const indented = [
      Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
      Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i * 2)}- a:`).join('\n'),
      `steps: "unclosed\n${'['.repeat(100)}"\nx: ${'['.repeat(100)}`,
    ];
    for (const text of indented) assert.notEqual(findExcessNesting(text), undefined, text.slice(0, 40));
  });

  test('allows exactly MAX_NESTING levels', () => {
    const text = `${'['.repeat(MAX_NESTING)}${']'.repeat(MAX_NESTING)}`;
    assert.equal(findExcessNesting(text), undefined);
    assert.equal(findExcessNesting(`[${text}]`), MAX_NESTING);
  });
});
