import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normaliseArtifactPath, unsafePathProblem } from '../../engine/lint/rules-artifacts.ts';
import { lintPipelineSource } from '../../engine/pipeline.ts';

function lint(source: string): string[] {
  return lintPipelineSource(source, 'p.yml').diagnostics.map(
    (d) => `${d.line}:${d.col} ${d.severity} ${d.code} ${d.message}`,
  );
}

const lines = (...text: string[]) => `${text.join('\n')}\n`;

describe('rules: where a step runs', () => {
  test('a step needs exactly one of environment and image', () => {
    const source = lines(
      'version: 1',
      'environments:',
      '  e: {image: x}',
      'steps:',
      '  both:',
      '    environment: e',
      '    image: y',
      '    commands: [x]',
      '  neither:',
      '    commands: [x]',
      '  fine: {environment: e, commands: [x]}',
    );
    assert.deepEqual(lint(source), [
      "7:5 error GBCMS_STEP_ENVIRONMENT_AND_IMAGE steps.both.image: has both 'environment' and 'image'; keep one (put the image in the environment, or drop the environment)",
      "9:3 error GBCMS_STEP_NO_ENVIRONMENT steps.neither: does not say where it runs: add 'image: NAME' or 'environment: NAME'",
    ]);
  });

  test('an environment needs exactly one of image and build', () => {
    const source = lines(
      'version: 1',
      'environments:',
      '  both:',
      '    image: x',
      '    build: {context: .}',
      '  neither: {network: none}',
      '  built: {build: {context: ci, dockerfile: Dockerfile.ci}}',
      'steps:',
      '  a: {environment: built, commands: [x]}',
    );
    assert.deepEqual(lint(source), [
      "5:5 error GBCMS_ENV_IMAGE_AND_BUILD environments.both.build: has both 'image' and 'build': an environment either uses an image or builds one, keep one",
      "6:3 error GBCMS_ENV_NO_IMAGE environments.neither: needs 'image: NAME' or 'build: {context: DIR}'",
    ]);
  });

  test('environment: must name a defined environment; a close name is suggested', () => {
    const source = lines(
      'version: 1',
      'environments: {node: {image: x}, python: {image: y}}',
      'steps:',
      '  a: {environment: nodee, commands: [x]}',
      '  b: {environment: ruby, commands: [x]}',
    );
    assert.deepEqual(lint(source), [
      "4:20 error GBCMS_UNKNOWN_ENVIRONMENT steps.a.environment: environment 'nodee' is not defined; did you mean 'node'?",
      "5:20 error GBCMS_UNKNOWN_ENVIRONMENT steps.b.environment: environment 'ruby' is not defined",
    ]);
    assert.deepEqual(lint(lines('version: 1', 'steps:', '  a: {environment: node, commands: [x]}')), [
      "3:20 error GBCMS_UNKNOWN_ENVIRONMENT steps.a.environment: environment 'node' is not defined; the file defines no 'environments:'",
    ]);
  });
});

describe('rules: depends_on', () => {
  test('names must be other steps of the file', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  build: {image: x, commands: [x]}',
      '  test:',
      '    image: x',
      '    commands: [x]',
      '    depends_on: [biuld, test, deploy-prod]',
    );
    assert.deepEqual(lint(source), [
      "7:18 error GBCMS_UNKNOWN_STEP steps.test.depends_on.0: step 'biuld' is not defined; did you mean 'build'?",
      "7:25 error GBCMS_SELF_DEPENDENCY steps.test.depends_on.1: step 'test' cannot depend on itself",
      "7:31 error GBCMS_UNKNOWN_STEP steps.test.depends_on.2: step 'deploy-prod' is not defined",
    ]);
  });

  test('a cycle is named in full and reported at the depends_on of its first step', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  setup: {image: x, commands: [x]}',
      '  b: {image: x, commands: [x], depends_on: [c]}',
      '  c: {image: x, commands: [x], depends_on: [d]}',
      '  d: {image: x, commands: [x], depends_on: [b, setup]}',
    );
    assert.deepEqual(lint(source), [
      '4:32 error GBCMS_DAG_CYCLE steps.b.depends_on: steps wait for each other in a cycle: b -> c -> d -> b',
    ]);
  });

  test('a cycle through the implicit "wait for the step above" says so', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  first: {image: x, commands: [x], depends_on: [second]}',
      '  second: {image: x, commands: [x]}',
    );
    assert.deepEqual(lint(source), [
      '3:36 error GBCMS_DAG_CYCLE steps.first.depends_on: steps wait for each other in a cycle: first -> second -> first (second has no depends_on and so waits for the step above)',
    ]);
  });

  test('every separate cycle is reported', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  a: {image: x, commands: [x], depends_on: [b]}',
      '  b: {image: x, commands: [x], depends_on: [a]}',
      '  c: {image: x, commands: [x], depends_on: [d]}',
      '  d: {image: x, commands: [x], depends_on: [c]}',
    );
    assert.deepEqual(
      lint(source).map((line) => line.replace(/ steps wait.*: /, ' ')),
      [
        '3:32 error GBCMS_DAG_CYCLE steps.a.depends_on: a -> b -> a',
        '5:32 error GBCMS_DAG_CYCLE steps.c.depends_on: c -> d -> c',
      ],
    );
  });

  test('no cycle with depends_on: [] or a plain chain', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  a: {image: x, commands: [x]}',
      '  b: {image: x, commands: [x]}',
      '  c: {image: x, commands: [x], depends_on: []}',
      '  d: {image: x, commands: [x], depends_on: [a, c]}',
    );
    assert.deepEqual(lint(source), []);
  });

  test('more than 1000 steps is an error, and cycles are still found', () => {
    const steps = Array.from(
      { length: 1001 },
      (_, i) => `  s${i}: {image: x, commands: [x], depends_on: [s${i + 1}]}`,
    );
    steps[1000] = '  s1000: {image: x, commands: [x], depends_on: []}';
    assert.deepEqual(lint(lines('version: 1', 'steps:', ...steps)), [
      '2:1 error GBCMS_TOO_MANY_STEPS steps: defines 1001 steps; at most 1000 are allowed',
    ]);
    assert.deepEqual(lint(lines('version: 1', 'steps:', ...steps.slice(1))), []);
    steps[1000] = '  s1000: {image: x, commands: [x], depends_on: [s0]}';
    assert.deepEqual(lint(lines('version: 1', 'steps:', ...steps)), [
      '2:1 error GBCMS_TOO_MANY_STEPS steps: defines 1001 steps; at most 1000 are allowed',
      `3:33 error GBCMS_DAG_CYCLE steps.s0.depends_on: steps wait for each other in a cycle: ${[
        ...Array.from({ length: 10 }, (_, i) => `s${i}`),
        '(982 more)',
        ...Array.from({ length: 9 }, (_, i) => `s${992 + i}`),
        's0',
      ].join(' -> ')}`,
    ]);
  });

  test('a cycle through 5,000 steps in one file is found and named by its ends', () => {
    // As many as the YAML token budget lets one file hold (20,000 are refused as too dense; 5,000 is well inside it).
    const count = 5_000;
    const steps = Array.from({ length: count }, (_, i) => `  s${i}: {image: x, commands: [x]}`);
    steps[0] = `  s0: {image: x, commands: [x], depends_on: [s${count - 1}]}`;
    const found = lint(lines('version: 1', 'steps:', ...steps));
    assert.equal(found.length, 2);
    assert.equal(
      found[0],
      '2:1 error GBCMS_TOO_MANY_STEPS steps: defines 5000 steps; at most 1000 are allowed',
    );
    assert.match(
      found[1] ?? '',
      /^3:33 error GBCMS_DAG_CYCLE steps\.s0\.depends_on: steps wait for each other in a cycle: s0 -> s4999 -> s4998 -> .* -> \(4981 more\) -> .* -> s1 -> s0 \(s4999, .* \(4979 more\), .*, s1 have no depends_on and so wait for the step above\)$/,
    );
    assert.ok((found[1] ?? '').length < 1000, 'the message stays readable');
    // That the search stays linear on 20,000 steps is counted in dag-deep.test.ts, not timed here.
  });
});

describe('rules: secrets and matrix', () => {
  test('secret names of 3 characters or fewer are refused', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  a:',
      '    image: x',
      '    commands: [x]',
      '    secrets: [TOK, A, NPM_TOKEN, KEYS]',
    );
    assert.deepEqual(lint(source), [
      "6:15 error GBCMS_SECRET_NAME_TOO_SHORT steps.a.secrets.0: 'TOK' is too short to be a real secret name (use a descriptive name, e.g. NPM_TOKEN)",
      "6:20 error GBCMS_SECRET_NAME_TOO_SHORT steps.a.secrets.1: 'A' is too short to be a real secret name (use a descriptive name, e.g. NPM_TOKEN)",
    ]);
  });

  test('a matrix may expand to 256 combinations, not more', () => {
    const matrix = (a: number, b: number) =>
      lint(
        lines(
          'version: 1',
          'steps:',
          '  a:',
          '    image: x',
          '    commands: [x]',
          '    matrix:',
          `      A: [${Array.from({ length: a }, (_, i) => i).join(', ')}]`,
          `      B: [${Array.from({ length: b }, (_, i) => `b${i}`).join(', ')}]`,
        ),
      );
    assert.deepEqual(matrix(16, 16), []);
    assert.deepEqual(matrix(257, 1), [
      '6:5 error GBCMS_MATRIX_TOO_LARGE steps.a.matrix: expands to 257 combinations (A: 257 x B: 1); at most 256 are allowed',
    ]);
  });
});

describe('rules: artifacts and reports', () => {
  test('paths must stay inside the workspace', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  a:',
      '    image: x',
      '    commands: [x]',
      '    artifacts:',
      '      - /etc',
      '      - a/../../b',
      '      - C:\\build',
      '      - {path: ok, name: /abs}',
      '    reports: {junit: ../report.xml}',
    );
    assert.deepEqual(lint(source), [
      "7:9 error GBCMS_ARTIFACT_UNSAFE_PATH steps.a.artifacts.0: '/etc' is an absolute path; use a path relative to the workspace",
      "8:9 error GBCMS_ARTIFACT_UNSAFE_PATH steps.a.artifacts.1: 'a/../../b' contains '..' and could leave the workspace",
      "9:9 error GBCMS_ARTIFACT_UNSAFE_PATH steps.a.artifacts.2: 'C:\\build' is an absolute path; use a path relative to the workspace",
      "10:26 error GBCMS_ARTIFACT_UNSAFE_PATH steps.a.artifacts.3.name: destination '/abs' is an absolute path; use a path relative to the workspace",
      "11:22 error GBCMS_REPORT_UNSAFE_PATH steps.a.reports.junit: '../report.xml' contains '..' and could leave the workspace",
    ]);
  });

  test('two artifacts of a step may not share a destination, however the path is written', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  a:',
      '    image: x',
      '    commands: [x]',
      '    artifacts: [coverage/, ./coverage, {path: dist, name: coverage//}, {path: coverage, name: other}]',
      '  b:',
      '    image: x',
      '    commands: [x]',
      '    artifacts: [coverage]',
    );
    assert.deepEqual(lint(source), [
      "6:28 error GBCMS_ARTIFACT_DUPLICATE steps.a.artifacts.1: 'coverage' is already the destination of artifact 0; give one of them another 'name:'",
      "6:59 error GBCMS_ARTIFACT_DUPLICATE steps.a.artifacts.2.name: 'coverage' is already the destination of artifact 0; give one of them another 'name:'",
    ]);
  });

  test('normalising and judging paths', () => {
    assert.equal(normaliseArtifactPath('./coverage/'), 'coverage');
    assert.equal(normaliseArtifactPath('a//b/./c/'), 'a/b/c');
    assert.equal(normaliseArtifactPath('a\\b'), 'a/b');
    assert.equal(normaliseArtifactPath('.'), '.');
    assert.equal(unsafePathProblem('dist/app.js'), undefined);
    assert.equal(unsafePathProblem('..hidden/x'), undefined);
    assert.match(unsafePathProblem('\\\\server\\share') ?? '', /absolute/);
    assert.match(unsafePathProblem('x/..') ?? '', /'\.\.'/);
  });
});

describe('rules: bad habits', () => {
  const withUser = (user: string, extra = '') =>
    lint(
      lines(
        'version: 1',
        'environments:',
        `  e: {image: x, user: '${user}'${extra}}`,
        'steps:',
        '  a: {environment: e, commands: [x], secrets: [NPM_TOKEN]}',
      ),
    );

  test('running as root is a warning, on the user value', () => {
    for (const user of ['root', '0', '0:0', 'root:root']) {
      assert.deepEqual(withUser(user), [
        `3:23 warning GBCMS_BAD_HABIT_ROOT_USER environments.e.user: '${user}' runs steps as root in the container; gbcms runs them as 1000:1000 by default, so drop 'user' unless the image really needs root`,
      ]);
    }
  });

  test('other users, and a bridge network next to secrets, are fine', () => {
    assert.deepEqual(withUser('1000:1000'), []);
    assert.deepEqual(withUser('node'), []);
    assert.deepEqual(withUser('1000:0'), []);
    assert.deepEqual(withUser('1000', ', network: bridge'), []);
  });
});

describe('rules run next to schema errors, so one pass shows everything', () => {
  test('a schema error elsewhere does not hide a rule finding', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  a: {environment: nope, commands: [x], timeout: soon, depends_on: [zz]}',
    );
    assert.deepEqual(lint(source), [
      "3:20 error GBCMS_UNKNOWN_ENVIRONMENT steps.a.environment: environment 'nope' is not defined; the file defines no 'environments:'",
      "3:50 error GBCMS_SCHEMA_DURATION steps.a.timeout: 'soon' is not a duration like 90s, 10m or 1h30m",
      "3:69 error GBCMS_UNKNOWN_STEP steps.a.depends_on.0: step 'zz' is not defined",
    ]);
  });

  test('malformed parts are skipped by the rules, not crashed on', () => {
    const source = lines(
      'version: 1',
      'environments: [not, a, mapping]',
      'steps:',
      '  a: {image: x, commands: [x], depends_on: b, artifacts: {x: 1}, secrets: 5, matrix: [1]}',
      '  b: 7',
    );
    const codes = lintPipelineSource(source, 'p.yml').diagnostics.map((d) => d.code);
    assert.ok(
      codes.every((code) => code.startsWith('GBCMS_SCHEMA_')),
      codes.join(),
    );
    assert.ok(codes.length >= 5);
  });
});
