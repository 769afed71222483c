// Input written to break the linter: every case must end as diagnostics, with no crash, hang,
// stack overflow, blow-up or prototype pollution. "No blow-up" is measured against what
// linting an honest pipeline costs on this machine at this moment, with a wide margin: load
// slows both alike, while an exponential expansion or a runaway parse costs far more than any
// honest file of the largest size.
import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Diagnostic } from '../../engine/diagnostics.ts';
import { LINT_CODES } from '../../engine/lint/codes.ts';
import type { LoadedPipeline } from '../../engine/pipeline.ts';
import { lintPipelineSource, MAX_PIPELINE_BYTES, readPipeline } from '../../engine/pipeline.ts';
import { assertLinear } from '../helpers/growth.ts';

/** How many times an honest pipeline's lint a hostile input may cost at most. */
const BLOWUP_MARGIN = 10;

/** An honest pipeline close to the limits: 1000 steps (the most allowed), about 800 KiB. */
function honestPipeline(): string {
  const steps = Array.from({ length: 1000 }, (_, i) => {
    const commands = Array.from(
      { length: 8 },
      (_, j) => `      - npm run task-${i}-${j} -- --flag=value --other=${'x'.repeat(40)}\n`,
    );
    return `  step-${i}:\n    environment: node\n    commands:\n${commands.join('')}    env: {A_${i}: "1", B_${i}: "two"}\n`;
  });
  return `version: 1\nenvironments:\n  node: {image: node:20}\nsteps:\n${steps.join('')}`;
}

let honestLintMs: number | undefined;
/** What linting the honest pipeline costs now: the fastest of two runs after a warm-up. */
function honestCost(): number {
  if (honestLintMs === undefined) {
    const text = honestPipeline();
    assert.deepEqual(lintPipelineSource(text, 'honest.yml').diagnostics, []);
    honestLintMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      lintPipelineSource(text, 'honest.yml');
      honestLintMs = Math.min(honestLintMs, performance.now() - started);
    }
  }
  return honestLintMs;
}

/** Lints with no blow-up; the result has an error and no config. */
function rejected(source: string | Uint8Array): LoadedPipeline {
  const honest = honestCost();
  // The fastest of up to three tries, as the honest cost is: a pause of a loaded machine during
  // one try is not the input's doing, a blow-up shows in every try.
  let result = lintPipelineSource(source, 'evil.yml');
  let elapsed = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3 && elapsed >= BLOWUP_MARGIN * honest; i++) {
    const started = performance.now();
    result = lintPipelineSource(source, 'evil.yml');
    elapsed = Math.min(elapsed, performance.now() - started);
  }
  assert.ok(
    elapsed < BLOWUP_MARGIN * honest,
    `took ${Math.round(elapsed)} ms, over ${BLOWUP_MARGIN}× the ${Math.round(honest)} ms of an honest 1000-step pipeline`,
  );
  assert.equal(result.config, undefined);
  assert.ok(result.diagnostics.some((d) => d.severity === 'error'));
  for (const d of result.diagnostics) assert.ok(d.code in LINT_CODES, d.code);
  return result;
}

function only(result: LoadedPipeline): Diagnostic {
  assert.equal(result.diagnostics.length, 1, JSON.stringify(result.diagnostics));
  const [diagnostic] = result.diagnostics;
  assert.ok(diagnostic);
  return diagnostic;
}

const where = (d: Diagnostic | undefined) => `${d?.line}:${d?.col} ${d?.code}`;
const lines = (...text: string[]) => `${text.join('\n')}\n`;
const step = '{image: x, commands: [x]}';

/** The paths fs/promises' open() is called with while `work` runs (the engine's imports included). */
async function watchOpens<T>(work: () => Promise<T>): Promise<{ result: T; paths: string[] }> {
  const fs = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
  const original = fs.open;
  const paths: string[] = [];
  fs.open = ((path: Parameters<typeof original>[0], ...rest: unknown[]) => {
    paths.push(String(path));
    return (original as (...args: unknown[]) => ReturnType<typeof original>)(path, ...rest);
  }) as typeof original;
  syncBuiltinESMExports();
  try {
    return { result: await work(), paths };
  } finally {
    fs.open = original;
    syncBuiltinESMExports();
  }
}

describe('size', () => {
  test('more than 1 MiB is refused before parsing, as text or bytes', () => {
    const text = `version: 1\nname: ${'x'.repeat(MAX_PIPELINE_BYTES)}\n`;
    const d = only(rejected(text));
    assert.equal(d.code, 'GBCMS_FILE_TOO_LARGE');
    assert.equal(`${d.line}:${d.col}`, '1:1', 'a problem of the whole file points at its start');
    assert.match(d.message, /1048594 bytes; pipeline files are limited to 1048576 bytes/);
    assert.equal(only(rejected(new Uint8Array(MAX_PIPELINE_BYTES + 1))).code, 'GBCMS_FILE_TOO_LARGE');
  });

  test('the limit counts bytes, not characters', () => {
    const text = `# ${'é'.repeat(MAX_PIPELINE_BYTES / 2)}\nversion: 1\n`;
    assert.ok(text.length < MAX_PIPELINE_BYTES);
    assert.equal(only(rejected(text)).code, 'GBCMS_FILE_TOO_LARGE');
  });

  describe('on disk', () => {
    let dir = '';
    after(() => rm(dir, { recursive: true, force: true }));

    test('a huge file is judged by its size without being opened', async () => {
      dir = await mkdtemp(join(tmpdir(), 'gbcms-hostile-'));
      const small = join(dir, 'small.yml');
      await writeFile(small, `version: 1\nsteps:\n  a: ${step}\n`);
      const file = join(dir, 'huge.yml');
      await writeFile(file, '');
      await truncate(file, 8 * 1024 ** 3); // sparse: 8 GiB
      const opened = await watchOpens(async () => {
        assert.deepEqual((await readPipeline(small, 'small.yml')).diagnostics, []);
        return readPipeline(file, 'huge.yml');
      });
      assert.deepEqual(opened.paths, [small], 'the small file is opened and read, the huge one is not');
      const result = opened.result;
      assert.equal(result.file, 'huge.yml');
      assert.deepEqual(
        result.diagnostics.map((d) => `${d.code} ${d.message}`),
        [
          'GBCMS_FILE_TOO_LARGE the file is 8589934592 bytes; pipeline files are limited to 1048576 bytes (1 MiB)',
        ],
      );
    });
  });
});

describe('aliases', () => {
  test('billion laughs is refused at the alias that exceeds the budget', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const name = String.fromCharCode(97 + i);
      const previous = `*${String.fromCharCode(96 + i)}`;
      levels.push(`${name}: &${name} [${Array(9).fill(previous).join(',')}]`);
    }
    const d = only(rejected(lines(...levels)));
    assert.equal(where(d), '5:11 GBCMS_YAML_ALIAS_BOMB');
    assert.match(d.message, /billion laughs/);
  });

  test('a wide fan-out of one big anchor is refused too', () => {
    const big = `[${Array.from({ length: 500 }, (_, i) => i).join(', ')}]`;
    const text = lines('version: 1', `big: &big ${big}`, `many: [${Array(100).fill('*big').join(', ')}]`);
    assert.equal(only(rejected(text)).code, 'GBCMS_YAML_ALIAS_BOMB');
  });

  test('an alias inside its own anchor, and an alias to nothing', () => {
    assert.equal(where(only(rejected('version: 1\nsteps: &s {a: *s}\n'))), '2:15 GBCMS_YAML_RECURSIVE_ALIAS');
    assert.equal(where(only(rejected('version: 1\nsteps: *nothing\n'))), '2:8 GBCMS_YAML_UNKNOWN_ALIAS');
  });

  test('an alias that would nest too deep where it is used', () => {
    const deep = `${'['.repeat(40)}x${']'.repeat(40)}`;
    const text = lines('version: 1', `a: &deep ${deep}`, `b: ${'['.repeat(30)}*deep${']'.repeat(30)}`);
    assert.equal(where(only(rejected(text))), '3:34 GBCMS_YAML_TOO_DEEP');
  });
});

describe('nesting', () => {
  test('500k nested [ are refused by the pre-scan, with a position', () => {
    const d = only(rejected(`version: 1\nsteps: ${'['.repeat(500_000)}`));
    assert.equal(where(d), '2:71 GBCMS_YAML_TOO_DEEP');
    assert.match(d.message, /deeper than 64 levels/);
  });

  test('nested flow mappings, compact sequences and indentation alike', () => {
    assert.equal(only(rejected('{a: '.repeat(200_000))).code, 'GBCMS_YAML_TOO_DEEP');
    assert.equal(where(only(rejected(`${'- '.repeat(400_000)}x`))), '1:129 GBCMS_YAML_TOO_DEEP');
    const indented = Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    assert.equal(where(only(rejected(indented))), '65:65 GBCMS_YAML_TOO_DEEP');
  });

  test('64 levels are allowed, 65 are not', () => {
    const nest = (levels: number) => `version: 1\nx: ${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}\n`;
    const ok = lintPipelineSource(nest(64), 'evil.yml').diagnostics.map((d) => d.code);
    assert.ok(!ok.includes('GBCMS_YAML_TOO_DEEP'), ok.join());
    assert.equal(where(only(rejected(nest(65)))), '2:67 GBCMS_YAML_TOO_DEEP');
  });
});

describe('keys', () => {
  test('duplicate keys name the first occurrence', () => {
    const result = rejected(lines('version: 1', 'steps:', `  a: ${step}`, `  a: ${step}`, 'version: 1'));
    assert.deepEqual(
      result.diagnostics.map((d) => `${where(d)} ${d.message}`),
      [
        "4:3 GBCMS_YAML_DUPLICATE_KEY steps: duplicate key 'a' (first on line 3)",
        "5:1 GBCMS_YAML_DUPLICATE_KEY duplicate key 'version' (first on line 1)",
      ],
    );
  });

  test('<< merge keys are refused and nothing is merged', () => {
    const result = rejected(
      lines('version: 1', 'x-base: &base {image: x}', 'steps:', '  a:', '    <<: *base', '    commands: [x]'),
    );
    const codes = result.diagnostics.map(where);
    assert.ok(codes.includes('5:5 GBCMS_YAML_MERGE_KEY'), codes.join());
    assert.ok(codes.includes('4:3 GBCMS_STEP_NO_ENVIRONMENT'), 'the merged image must not appear');
    const yaml11 = rejected(
      lines('%YAML 1.1', '---', 'version: 1', 'steps:', '  a: {<<: {image: x}, commands: [x]}'),
    );
    assert.ok(yaml11.diagnostics.map(where).includes('5:7 GBCMS_YAML_MERGE_KEY'));
  });

  test('__proto__, constructor and prototype are refused anywhere, and nothing is polluted', () => {
    const text = lines(
      'version: 1',
      '__proto__: {polluted: top}',
      '"__proto__": {polluted: quoted}',
      'steps:',
      '  a:',
      '    image: x',
      '    commands: [x]',
      '    env: {constructor: {prototype: {polluted: deep}}}',
      '    artifacts: [{path: x, __proto__: {polluted: list}}]',
      '  constructor: {image: x, commands: [x]}',
      '  prototype: {image: x, commands: [x]}',
    );
    const result = rejected(text);
    assert.deepEqual(result.diagnostics.filter((d) => d.code === 'GBCMS_YAML_FORBIDDEN_KEY').map(where), [
      '2:1 GBCMS_YAML_FORBIDDEN_KEY',
      '3:1 GBCMS_YAML_FORBIDDEN_KEY',
      '8:11 GBCMS_YAML_FORBIDDEN_KEY',
      '8:25 GBCMS_YAML_FORBIDDEN_KEY',
      '9:27 GBCMS_YAML_FORBIDDEN_KEY',
      '10:3 GBCMS_YAML_FORBIDDEN_KEY',
      '11:3 GBCMS_YAML_FORBIDDEN_KEY',
    ]);
    const json = rejected('{"version": 1, "__proto__": {"polluted": "json"}, "steps": {}}');
    assert.ok(json.diagnostics.some((d) => d.code === 'GBCMS_YAML_FORBIDDEN_KEY'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
  });

  test('keys must be plain strings', () => {
    const result = rejected(lines('version: 1', '? [a, b]', ': 1', 'steps:', `  x: ${step}`));
    assert.deepEqual(result.diagnostics.map(where), ['2:3 GBCMS_YAML_COMPLEX_KEY']);
  });
});

describe('bytes that are not YAML text', () => {
  test('NUL bytes and control characters', () => {
    const nul = only(rejected(new Uint8Array([0x76, 0x3a, 0x20, 0x31, 0x0a, 0x61, 0x00])));
    assert.equal(where(nul), '2:2 GBCMS_FILE_BINARY');
    assert.equal(where(only(rejected('version: 1\nname: "a\u0000"\n'))), '2:9 GBCMS_FILE_BINARY');
    const bell = only(rejected('version: 1\nname: "a\u0007"\n'));
    assert.equal(where(bell), '2:9 GBCMS_FILE_BINARY');
    assert.match(bell.message, /U\+0007/);
  });

  test('invalid UTF-8: stray continuation, overlong form, surrogate, truncated sequence', () => {
    const cases: [number[], string][] = [
      [[0x61, 0x3a, 0x20, 0x80], '1:4'],
      [[0x61, 0x3a, 0x20, 0xc0, 0xaf], '1:4'],
      [[0x0a, 0xed, 0xa0, 0x80], '2:1'],
      [[0x61, 0x3a, 0x20, 0xe2, 0x82], '1:4'],
    ];
    for (const [bytes, position] of cases) {
      assert.equal(where(only(rejected(new Uint8Array(bytes)))), `${position} GBCMS_FILE_ENCODING`);
    }
    assert.equal(where(only(rejected('version: 1\nname: \ud800\n'))), '2:7 GBCMS_FILE_ENCODING');
  });

  test('binary garbage, e.g. an image saved as .gbcms.yml', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
    assert.equal(only(rejected(png)).code, 'GBCMS_FILE_BINARY');
    const noise = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251);
    assert.ok(['GBCMS_FILE_BINARY', 'GBCMS_FILE_ENCODING'].includes(only(rejected(noise)).code));
  });

  test('valid UTF-8 beyond ASCII is fine', () => {
    const result = lintPipelineSource(
      new TextEncoder().encode(`version: 1\nname: "Grüße 🚀"\nsteps:\n  a: ${step}\n`),
      'ok.yml',
    );
    assert.deepEqual(result.diagnostics, []);
    assert.equal(result.config?.name, 'Grüße 🚀');
  });
});

describe('shapes that are not a pipeline', () => {
  test('empty, blank and comment-only files', () => {
    for (const text of ['', '   \n\n\t\n', '# nothing\n  # here\n', '---\n', new Uint8Array()]) {
      const d = only(rejected(text));
      assert.equal(d.code, 'GBCMS_FILE_EMPTY');
      assert.equal(`${d.line}:${d.col}`, '1:1');
    }
  });

  test('a top level that is not a mapping', () => {
    assert.equal(where(only(rejected('# list\n- a\n- b\n'))), '2:1 GBCMS_FILE_NOT_MAPPING');
    assert.equal(where(only(rejected('just text\n'))), '1:1 GBCMS_FILE_NOT_MAPPING');
    assert.equal(where(only(rejected('~\n'))), '1:1 GBCMS_FILE_NOT_MAPPING');
    assert.equal(where(only(rejected('[version, 1]\n'))), '1:1 GBCMS_FILE_NOT_MAPPING');
  });

  test('several YAML documents in one file', () => {
    const result = rejected(lines('version: 1', `steps: {a: ${step}}`, '---', 'version: 1', '---', 'x: 1'));
    assert.deepEqual(result.diagnostics.map(where), ['3:1 GBCMS_YAML_MULTIPLE_DOCUMENTS']);
  });

  test('YAML syntax errors are positioned and stop further checks', () => {
    const result = rejected(lines('version: 1', 'steps:', '  a:', '    image: x', '   commands: [x]'));
    assert.deepEqual(result.diagnostics.map(where), ['5:1 GBCMS_YAML_SYNTAX']);
  });
});

describe('size-driven slowness', () => {
  test('a huge list with uniqueItems stays linear', () => {
    const withSecrets = (count: number) => {
      const secrets = Array.from({ length: count }, (_, i) => `SECRET_${i}`).join(', ');
      return `version: 1\nsteps:\n  a: {image: x, commands: [x], secrets: [${secrets}]}\n`;
    };
    assert.deepEqual(lintPipelineSource(withSecrets(20_000), 'big.yml').diagnostics, []);
    assertLinear(
      'linting 1,250 then 20,000 secrets',
      withSecrets,
      (text) => lintPipelineSource(text, 'big.yml'),
      1250,
    );
  });

  test('thousands of unknown references do not make suggestions quadratic', () => {
    const withUnknowns = (count: number) =>
      lines(
        'version: 1',
        'environments: {e: {image: x}}',
        'steps:',
        ...Array.from(
          { length: count },
          (_, i) => `  s${i}: {image: x, commands: [x], depends_on: [q${i}, r${i}], environment: e${i}}`,
        ),
      );
    const result = rejected(withUnknowns(900));
    // Four problems a step (two unknown steps, an unknown environment, image and environment both): 100 listed, the rest counted.
    assert.equal(result.diagnostics.length, 101);
    assert.equal(result.diagnostics.at(-1)?.code, 'GBCMS_TOO_MANY_DIAGNOSTICS');
    assert.match(result.diagnostics.at(-1)?.message ?? '', /^and 3500 more problems, 3500 of them errors/);
    assertLinear(
      'linting 56 then 896 steps of unknown references',
      withUnknowns,
      (text) => lintPipelineSource(text, 'refs.yml'),
      56,
    );
  });
});

describe('fuzzing', () => {
  const valid = lines(
    'version: 1',
    'environments:',
    '  e: {image: x, user: "1000"}',
    'steps:',
    '  a:',
    '    environment: e',
    '    commands: [echo "[x]"]',
    '    when: {branch: [main]}',
  );

  test('random text, random bytes and mangled pipelines never throw', () => {
    const mangled = fc
      .tuple(fc.nat(valid.length), fc.nat(8), fc.string({ unit: 'binary', maxLength: 8 }))
      .map(([at, cut, insert]) => valid.slice(0, at) + insert + valid.slice(at + cut));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), mangled),
        (input) => {
          const result = lintPipelineSource(input, 'fuzz.yml');
          assert.equal(result.config !== undefined, !result.diagnostics.some((d) => d.severity === 'error'));
          for (const d of result.diagnostics) assert.ok(d.code in LINT_CODES, d.code);
        },
      ),
      { numRuns: 300 },
    );
  });
});
