// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${{ matrix.X }} in plain strings
// Matrix rules: what passes the linter must expand in the compiler without a clash, an
// unknown environment or an invalid image.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compilePlan } from '../../engine/compile/compiler.ts';
import { substituteMatrix } from '../../engine/config/matrix.ts';
import type { PipelineFile } from '../../engine/config/pipeline-file.generated.ts';
import { imageProblem, matrixReferences } from '../../engine/lint/rules-matrix.ts';
import { lintPipelineSource } from '../../engine/pipeline.ts';

function lint(source: string): string[] {
  return lintPipelineSource(source, 'p.yml').diagnostics.map(
    (d) => `${d.line}:${d.col} ${d.severity} ${d.code} ${d.message}`,
  );
}

const lines = (...text: string[]) => `${text.join('\n')}\n`;
const options = { file: '.gbcms.yml', workspace: '/w', trigger: { event: 'manual' as const } };

describe('matrix values that read the same', () => {
  test('1 and "1", true and "true" are refused on the second value', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  d:',
      '    image: x',
      '    commands: [x]',
      '    matrix:',
      '      v: [1, "1", 2]',
      "      flag: [true, 'true']",
      '      ok: [1.5, "1.50"]',
    );
    assert.deepEqual(lint(source), [
      "7:14 error GBCMS_MATRIX_DUPLICATE_VALUE steps.d.matrix.v.1: '1' and item 0 (1) both read as '1': two steps would be named with v=1; keep one",
      "8:20 error GBCMS_MATRIX_DUPLICATE_VALUE steps.d.matrix.flag.1: 'true' and item 0 (true) both read as 'true': two steps would be named with flag=true; keep one",
    ]);
  });

  test('values equal outright are left to the schema, reported once', () => {
    const source = lines('version: 1', 'steps:', '  d: {image: x, commands: [x], matrix: {v: [1, 1, "1"]}}');
    assert.deepEqual(lint(source), [
      '3:48 error GBCMS_SCHEMA_DUPLICATE steps.d.matrix.v.1: 1 is listed twice (also item 0)',
      "3:51 error GBCMS_MATRIX_DUPLICATE_VALUE steps.d.matrix.v.2: '1' and item 0 (1) both read as '1': two steps would be named with v=1; keep one",
    ]);
  });

  test('values holding ", AXIS=" that make two names equal are refused at the matrix', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  c:',
      '    image: x',
      '    commands: [x]',
      '    matrix: {a: ["1, b=2", "1"], b: ["2", "2, b=2"]}',
    );
    assert.deepEqual(lint(source), [
      "6:5 error GBCMS_MATRIX_NAME_CLASH steps.c.matrix: combinations {a: '1, b=2', b: '2'} and {a: '1', b: '2, b=2'} would both be named 'c (a=1, b=2, b=2)'; change a value so the names differ",
    ]);
  });
});

describe('templated environment names', () => {
  const environments = 'environments: {node-18: {image: "node:18"}, node-20: {image: "node:20"}}';

  test('every combination naming a defined environment is valid and compiles', () => {
    const loaded = lintPipelineSource(
      lines(
        'version: 1',
        environments,
        'steps:',
        '  t:',
        '    environment: node-${{ matrix.node }}',
        '    commands: [npm test]',
        '    matrix: {node: [18, 20], os: [a, b]}',
      ),
      'p.yml',
    );
    assert.deepEqual(loaded.diagnostics, []);
    assert.ok(loaded.config);
    const plan = compilePlan(loaded.config, options);
    assert.deepEqual(
      plan.steps.map((s) => [s.name, s.environment.name]),
      [
        ['t (node=18, os=a)', 'node-18'],
        ['t (node=18, os=b)', 'node-18'],
        ['t (node=20, os=a)', 'node-20'],
        ['t (node=20, os=b)', 'node-20'],
      ],
    );
  });

  test('a combination naming an undefined environment is reported with the combination', () => {
    const withNode = (values: string) =>
      lint(
        lines(
          'version: 1',
          environments,
          'steps:',
          '  t:',
          '    environment: node-${{ matrix.node }}',
          '    commands: [x]',
          `    matrix: {node: [${values}], os: [a, b]}`,
        ),
      );
    assert.deepEqual(withNode('18, 20, 21'), [
      "5:18 error GBCMS_UNKNOWN_ENVIRONMENT steps.t.environment: environment 'node-${{ matrix.node }}' names 'node-21' for node=21, which is not defined; did you mean 'node-20'?",
    ]);
    assert.deepEqual(withNode('16, 18, 22'), [
      "5:18 error GBCMS_UNKNOWN_ENVIRONMENT steps.t.environment: environment 'node-${{ matrix.node }}' names 'node-16' for node=16, 'node-22' for node=22, which are not defined",
    ]);
    assert.deepEqual(withNode('1, 2, 3, 4, 5, 6, 7'), [
      "5:18 error GBCMS_UNKNOWN_ENVIRONMENT steps.t.environment: environment 'node-${{ matrix.node }}' names 'node-1' for node=1, 'node-2' for node=2, 'node-3' for node=3, 'node-4' for node=4, 'node-5' for node=5 and 2 more, which are not defined",
    ]);
  });

  test('without environments: the file is told so', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  t: {environment: "node-${{ matrix.node }}", commands: [x], matrix: {node: [18]}}',
    );
    assert.deepEqual(lint(source), [
      "3:20 error GBCMS_UNKNOWN_ENVIRONMENT steps.t.environment: environment 'node-${{ matrix.node }}' names 'node-18' for node=18, which is not defined; the file defines no 'environments:'",
    ]);
  });

  test('a plain environment name is still checked as before', () => {
    const source = lines('version: 1', environments, 'steps:', '  t: {environment: node-21, commands: [x]}');
    assert.deepEqual(lint(source), [
      "4:20 error GBCMS_UNKNOWN_ENVIRONMENT steps.t.environment: environment 'node-21' is not defined; did you mean 'node-20'?",
    ]);
  });
});

describe('${{ matrix.X }} references', () => {
  test('an axis the step does not have is a warning on each text using it; the file stays valid', () => {
    const loaded = lintPipelineSource(
      lines(
        'version: 1',
        'steps:',
        '  t:',
        '    image: busybox',
        '    commands: ["echo ${{ matrix.nod }}", "echo ${{ matrix.node }}"]',
        '    env: {WHERE: "${{ matrix.os }}", N: 1}',
        '    matrix: {node: [18, 20], shard: [1, 2]}',
      ),
      'p.yml',
    );
    assert.deepEqual(
      loaded.diagnostics.map((d) => `${d.line}:${d.col} ${d.severity} ${d.code} ${d.message}`),
      [
        "5:16 warning GBCMS_MATRIX_REF_UNKNOWN_AXIS steps.t.commands.0: ${{ matrix.nod }} names no axis of this step's matrix (node, shard) and is left as written; did you mean 'node'?",
        "6:18 warning GBCMS_MATRIX_REF_UNKNOWN_AXIS steps.t.env.WHERE: ${{ matrix.os }} names no axis of this step's matrix (node, shard) and is left as written",
      ],
    );
    assert.ok(loaded.config, 'warnings only: the file is usable');
    const [first] = compilePlan(loaded.config, options).steps;
    assert.deepEqual(first?.commands, ['echo ${{ matrix.nod }}', 'echo 18']);
  });

  test('a reference in a step without a matrix is an error on each text', () => {
    const source = lines(
      'version: 1',
      'environments: {e: {image: x}}',
      'steps:',
      '  a:',
      '    environment: e-${{ matrix.v }}',
      '    commands: ["echo ${{ matrix.v }} ${{matrix.w}}", "echo fine"]',
      '    env: {X: "${{ matrix.v }}"}',
      '  b:',
      '    image: x:${{ matrix.tag }}',
      '    commands: [x]',
    );
    assert.deepEqual(lint(source), [
      "5:18 error GBCMS_MATRIX_REF_NO_MATRIX steps.a.environment: uses ${{ matrix.v }} but the step has no 'matrix:'; add one, or write the value out",
      "6:16 error GBCMS_MATRIX_REF_NO_MATRIX steps.a.commands.0: uses ${{ matrix.v }}, ${{ matrix.w }} but the step has no 'matrix:'; add one, or write the value out",
      "7:14 error GBCMS_MATRIX_REF_NO_MATRIX steps.a.env.X: uses ${{ matrix.v }} but the step has no 'matrix:'; add one, or write the value out",
      "9:12 error GBCMS_MATRIX_REF_NO_MATRIX steps.b.image: uses ${{ matrix.tag }} but the step has no 'matrix:'; add one, or write the value out",
    ]);
  });

  test('the linter finds exactly the references the compiler replaces', () => {
    const pieces = [
      '${{ matrix.a }}',
      '${{matrix.b}}',
      '${{  matrix.a  }}',
      '${{ matrix.a-b }}',
      '${{ matrix. a }}',
      '${{ env.a }}',
      '${{ MATRIX.a }}',
      '${ matrix.a }',
      '$',
      '{{',
      '}}',
      ' ',
      'matrix.a',
      'x',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 8 }), (parts) => {
        const text = parts.join('');
        const found = matrixReferences(text);
        for (const axis of ['a', 'b', 'a_b']) {
          const replaced = substituteMatrix(text, { [axis]: '\u0001' }) !== text;
          assert.equal(found.includes(axis), replaced, `${axis} in ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('templated images', () => {
  test('spaces inside ${{ matrix.AXIS }} pass the schema; the filled-in images compile', () => {
    const loaded = lintPipelineSource(
      lines(
        'version: 1',
        'steps:',
        '  t:',
        '    image: node:${{ matrix.node }}-${{matrix.flavour}}',
        '    commands: [node --version]',
        '    matrix: {node: [18, 20], flavour: [slim]}',
      ),
      'p.yml',
    );
    assert.deepEqual(loaded.diagnostics, []);
    assert.ok(loaded.config);
    assert.deepEqual(
      compilePlan(loaded.config, options).steps.map((s) => s.environment.image),
      ['node:18-slim', 'node:20-slim'],
    );
  });

  test('other spaces, other ${{ }} and templates in an environment image are refused by the schema', () => {
    const source = lines(
      'version: 1',
      'environments: {e: {image: "node:${{ matrix.node }}"}}',
      'steps:',
      '  a: {image: "node 20", commands: [x]}',
      '  b: {image: "node:${{ env.NODE }}", commands: [x], matrix: {NODE: [1]}}',
      '  c: {environment: e, commands: [x]}',
    );
    assert.deepEqual(lint(source), [
      "2:27 error GBCMS_SCHEMA_PATTERN environments.e.image: 'node:${{ matrix.node }}' is not a valid image reference (${{ matrix.AXIS }} is replaced in a step's image, not in an environment's)",
      "4:14 error GBCMS_SCHEMA_PATTERN steps.a.image: 'node 20' is not a valid image reference (it must not contain spaces, except inside ${{ matrix.AXIS }})",
      "5:14 error GBCMS_SCHEMA_PATTERN steps.b.image: 'node:${{ env.NODE }}' is not a valid image reference (it must not contain spaces, except inside ${{ matrix.AXIS }})",
    ]);
  });

  test('a combination that fills in an invalid image is reported with the combination', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  a:',
      '    image: busybox:${{ matrix.tag }}',
      '    commands: [x]',
      '    matrix: {tag: [stable, "musl x", ""]}',
      '  b:',
      '    image: busybox:${{ matrix.tg }}',
      '    commands: [x]',
      '    matrix: {tag: [stable]}',
      '  c:',
      '    image: ${{ matrix.long }}',
      '    commands: [x]',
      `    matrix: {long: [${'x'.repeat(256)}]}`,
    );
    assert.deepEqual(lint(source), [
      "4:12 error GBCMS_MATRIX_IMAGE steps.a.image: gives 'busybox:musl x' for tag='musl x' (it contains whitespace): not a valid image reference",
      "8:12 error GBCMS_MATRIX_IMAGE steps.b.image: gives 'busybox:${{ matrix.tg }}' for every combination (it contains whitespace): not a valid image reference",
      "8:12 warning GBCMS_MATRIX_REF_UNKNOWN_AXIS steps.b.image: ${{ matrix.tg }} names no axis of this step's matrix (tag) and is left as written",
      `12:12 error GBCMS_MATRIX_IMAGE steps.c.image: gives '${'x'.repeat(57)}...' for long=${'x'.repeat(256)} (longer than 255 characters): not a valid image reference`,
    ]);
  });

  test('the plain image rule', () => {
    assert.equal(imageProblem('node:20-bookworm-slim'), undefined);
    assert.equal(imageProblem(''), 'empty');
    assert.equal(imageProblem('a\tb'), 'it contains whitespace');
    assert.equal(imageProblem('x'.repeat(256)), 'longer than 255 characters');
  });
});

describe('whatever the matrix, a file the linter accepts compiles', () => {
  const values = fc.constantFrom<string | number | boolean>(
    1,
    '1',
    1.5,
    '1.5',
    true,
    'true',
    false,
    0,
    '0',
    'x',
    'a b',
    '',
    '1, b=2',
    '2, b=2',
    '2',
    'b=2',
  );
  const templates = fc.constantFrom(
    undefined,
    'busybox:${{ matrix.a }}',
    'busybox:${{matrix.b}}-${{ matrix.a }}',
    'e-${{ matrix.a }}',
    'e-x',
    'busybox:${{ matrix.c }}',
  );
  const files = fc
    .record({
      a: fc.array(values, { minLength: 1, maxLength: 4 }),
      b: fc.option(fc.array(values, { minLength: 1, maxLength: 3 }), { nil: undefined }),
      where: templates,
      command: fc.constantFrom('echo ${{ matrix.a }}', 'echo ${{ matrix.z }}', 'true'),
      withMatrix: fc.boolean(),
    })
    .map(({ a, b, where, command, withMatrix }) => {
      const matrix: Record<string, unknown[]> = { a };
      if (b) matrix.b = b;
      const step: Record<string, unknown> = { commands: [command] };
      if (withMatrix) step.matrix = matrix;
      if (where?.startsWith('e-')) step.environment = where;
      else step.image = where ?? 'busybox';
      return {
        version: 1,
        environments: { 'e-1': { image: 'one' }, 'e-x': { image: 'ex' }, 'e-true': { image: 't' } },
        steps: { s: step },
      };
    });

  test('no duplicate names, no unknown environment, no invalid image reach the compiler', () => {
    fc.assert(
      fc.property(files, (file) => {
        const loaded = lintPipelineSource(JSON.stringify(file), 'p.json');
        if (!loaded.config) return;
        const config: PipelineFile = loaded.config;
        const plan = compilePlan(config, options);
        assert.equal(new Set(plan.steps.map((s) => s.name)).size, plan.steps.length);
        for (const step of plan.steps) {
          const image = step.environment.image;
          if (image !== undefined) assert.equal(imageProblem(image), undefined, image);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
