import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lintPipelineSource } from '../../engine/pipeline.ts';

/** `LINE:COL CODE message` for each diagnostic, in file order. */
function lint(source: string): string[] {
  return lintPipelineSource(source, 'p.yml').diagnostics.map(
    (d) => `${d.line}:${d.col} ${d.code} ${d.message}`,
  );
}

const lines = (...text: string[]) => `${text.join('\n')}\n`;

describe('schema diagnostics: positions', () => {
  test('point at the offending value, with the dotted path in the message', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  test:',
      '    image: node:20',
      '    commands: [npm test]',
      '    timeout: 10 minutes',
    );
    assert.deepEqual(lint(source), [
      "6:14 GBCMS_SCHEMA_DURATION steps.test.timeout: '10 minutes' is not a duration like 90s, 10m or 1h30m",
    ]);
    const [diagnostic] = lintPipelineSource(source, 'p.yml').diagnostics;
    assert.equal(diagnostic?.path, 'steps.test.timeout');
    assert.equal(diagnostic?.file, 'p.yml');
    assert.equal(diagnostic?.severity, 'error');
  });

  test('an unknown key points at the key itself', () => {
    assert.deepEqual(
      lint(lines('version: 1', 'steps:', '  a:', '    image: x', '    commands: [x]', '    dependson: []')),
      ["6:5 GBCMS_SCHEMA_UNKNOWN_KEY steps.a.dependson: unknown key 'dependson'; did you mean 'depends_on'?"],
    );
  });

  test('a missing key points at the mapping that lacks it', () => {
    assert.deepEqual(lint(lines('version: 1', 'steps:', '  a:', '    image: x')), [
      "4:5 GBCMS_SCHEMA_REQUIRED steps.a: missing required key 'commands'",
    ]);
    assert.deepEqual(lint(lines('# comment', 'steps: {a: {image: x, commands: [x]}}')), [
      "2:1 GBCMS_SCHEMA_REQUIRED missing required key 'version'",
    ]);
  });

  test('flow style: columns inside one long line', () => {
    assert.deepEqual(
      lint('{version: 1, steps: {a: {image: x, commands: [x], retries: 99, pull: always}}}\n'),
      [
        '1:60 GBCMS_SCHEMA_RANGE steps.a.retries: 99 is out of range: must be at most 10',
        "1:64 GBCMS_SCHEMA_UNKNOWN_KEY steps.a.pull: unknown key 'pull' (allowed: extends, environment, image, runs_on, commands, depends_on, env, when, timeout, retries, allow_failure, approval, concurrency, artifacts, reports, secrets, matrix, services, cache)",
      ],
    );
  });

  test('positions stay right after block scalars, folded text and multi-line quotes', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  a:',
      '    image: x',
      '    commands:',
      '      - |',
      '        echo one',
      '',
      '        echo "two: [x]"',
      '      - >-',
      '        folded',
      '        line',
      '      - "quoted',
      '        over two lines"',
      '    retries: many',
    );
    assert.deepEqual(lint(source), [
      "15:14 GBCMS_SCHEMA_TYPE steps.a.retries: expected a whole number, got the string 'many'",
    ]);
  });

  test('a multi-line value is reported at its start, shown with \\n', () => {
    const source = lines(
      'version: 1',
      'steps:',
      '  a:',
      '    image: x',
      '    commands: [x]',
      '    timeout: |',
      '      10m',
      '      5s',
    );
    assert.deepEqual(lint(source), [
      "6:14 GBCMS_SCHEMA_DURATION steps.a.timeout: '10m\\n5s\\n' is not a duration like 90s, 10m or 1h30m",
    ]);
  });

  test('CRLF line endings and a byte order mark do not shift columns', () => {
    const source =
      '\ufeffversion: 1\r\nsteps:\r\n  a:\r\n    image: x\r\n    commands: [x]\r\n    timeout: soon\r\n';
    assert.deepEqual(lint(source), [
      "6:14 GBCMS_SCHEMA_DURATION steps.a.timeout: 'soon' is not a duration like 90s, 10m or 1h30m",
    ]);
  });

  test('errors inside aliased content point at the anchored original, once per use', () => {
    const source = lines('version: 1', 'steps:', '  a: &step {image: x, commands: x}', '  b: *step');
    assert.deepEqual(lint(source), [
      "3:33 GBCMS_SCHEMA_TYPE steps.a.commands: expected a list of strings, got the string 'x'",
      "3:33 GBCMS_SCHEMA_TYPE steps.b.commands: expected a list of strings, got the string 'x'",
    ]);
  });
});

describe('schema diagnostics: messages', () => {
  const step = (body: string) =>
    lines('version: 1', 'steps:', '  a:', '    image: x', '    commands: [x]', body);

  test('an unknown top-level key suggests the key it resembles', () => {
    assert.deepEqual(lint(lines('version: 1', 'step:', '  a: {image: x, commands: [x]}')), [
      "1:1 GBCMS_SCHEMA_REQUIRED missing required key 'steps'",
      "2:1 GBCMS_SCHEMA_UNKNOWN_KEY step: unknown top-level key 'step'; did you mean 'steps'?",
    ]);
  });

  test('enum errors list the allowed values and suggest a close one', () => {
    const source = lines(
      'version: 1',
      'environments:',
      '  e: {image: x, network: host, runtime: gvisr}',
      'steps:',
      '  a: {environment: e, commands: [x]}',
    );
    assert.deepEqual(lint(source), [
      "3:26 GBCMS_SCHEMA_ENUM environments.e.network: 'host' is not one of none, bridge",
      "3:41 GBCMS_SCHEMA_ENUM environments.e.runtime: 'gvisr' is not one of runc, crun, gvisor; did you mean 'gvisor'?",
    ]);
  });

  test('the version must be 1', () => {
    assert.deepEqual(lint(lines('version: 2', 'steps: {a: {image: x, commands: [x]}}')), [
      '1:10 GBCMS_SCHEMA_ENUM version: must be 1, got 2',
    ]);
  });

  test('services: a mapping of name to {image|environment, commands, env}', () => {
    assert.deepEqual(lint(step('    services: {db: {image: postgres}}')), []);
    assert.deepEqual(lint(step('    services: [{image: postgres}]')), [
      '6:15 GBCMS_SCHEMA_TYPE steps.a.services: expected a mapping, got a list',
    ]);
  });

  test('cache: a list of {path, key}, with the GitLab spelling refused by key', () => {
    assert.deepEqual(lint(step('    cache: [{path: node_modules, key: [package-lock.json]}]')), []);
    assert.deepEqual(lint(step('    cache: {paths: [x]}')), [
      '6:12 GBCMS_SCHEMA_TYPE steps.a.cache: expected a list of mappings, got a mapping',
    ]);
    assert.deepEqual(lint(step('    cache: [{paths: [x]}]')), [
      "6:13 GBCMS_SCHEMA_REQUIRED steps.a.cache.0: missing required key 'path'",
      "6:14 GBCMS_SCHEMA_UNKNOWN_KEY steps.a.cache.0.paths: unknown key 'paths'; did you mean 'path'?",
    ]);
  });

  test('sizes: strings like 512m, or a positive byte count', () => {
    const environment = (memory: string) =>
      lint(
        lines(
          'version: 1',
          'environments:',
          `  e: {image: x, resources: {memory: ${memory}}}`,
          'steps:',
          '  a: {environment: e, commands: [x]}',
        ),
      );
    assert.deepEqual(environment('512m'), []);
    assert.deepEqual(environment('1.5GiB'), []);
    assert.deepEqual(environment('1048576'), []);
    assert.deepEqual(environment('lots'), [
      "3:37 GBCMS_SCHEMA_SIZE environments.e.resources.memory: 'lots' is not a size like 512m, 1g or 1.5GiB",
    ]);
    assert.deepEqual(environment('0'), [
      '3:37 GBCMS_SCHEMA_SIZE environments.e.resources.memory: 0 is not a size like 512m, 1g or 1.5GiB',
    ]);
    assert.deepEqual(environment('1.5'), [
      '3:37 GBCMS_SCHEMA_TYPE environments.e.resources.memory: expected a size like 512m, 1g or 1.5GiB, got 1.5',
    ]);
    // resources.tmp (/tmp and HOME) is a size the same way.
    assert.deepEqual(environment('1g, tmp: 256m'), []);
    assert.deepEqual(environment('1g, tmp: lots'), [
      "3:46 GBCMS_SCHEMA_SIZE environments.e.resources.tmp: 'lots' is not a size like 512m, 1g or 1.5GiB",
    ]);
  });

  test('durations: 90s, 10m, 1h30m; zero and decimals are not', () => {
    assert.deepEqual(lint(step('    timeout: 1h30m')), []);
    assert.deepEqual(lint(step('    timeout: 0s')), [
      "6:14 GBCMS_SCHEMA_DURATION steps.a.timeout: '0s' is not a duration like 90s, 10m or 1h30m",
    ]);
    assert.deepEqual(lint(step('    timeout: 90')), [
      '6:14 GBCMS_SCHEMA_TYPE steps.a.timeout: expected a duration like 90s, 10m or 1h30m, got 90',
    ]);
  });

  test('type errors say what was expected and what was found', () => {
    assert.deepEqual(
      lint(
        lines('version: 1', 'steps:', '  a:', '    image: x', '    commands: npm test', '    env: {A: [1]}'),
      ),
      [
        "5:15 GBCMS_SCHEMA_TYPE steps.a.commands: expected a list of strings, got the string 'npm test'",
        '6:14 GBCMS_SCHEMA_TYPE steps.a.env.A: expected a string, a number or true/false, got a list',
      ],
    );
    assert.deepEqual(lint(lines('version: 1', 'steps:', '  a:')), [
      '3:3 GBCMS_SCHEMA_TYPE steps.a: expected a mapping, got an empty value',
    ]);
  });

  test('YAML booleans and numbers where text was meant get a hint to quote them', () => {
    assert.deepEqual(
      lint(lines('version: 1', 'steps:', '  a:', '    image: x', '    commands: [true, 12]')),
      [
        '5:16 GBCMS_SCHEMA_TYPE steps.a.commands.0: expected a string, got true (write "true" in quotes to mean the text)',
        '5:22 GBCMS_SCHEMA_TYPE steps.a.commands.1: expected a string, got 12 (write "12" in quotes to mean the text)',
      ],
    );
  });

  test('names of steps, environments and variables point at the key', () => {
    assert.deepEqual(
      lint(
        lines('version: 1', 'env: {OK: 1, my-var: 2}', 'steps:', '  "my step": {image: x, commands: [x]}'),
      ),
      [
        "2:14 GBCMS_SCHEMA_NAME env.my-var: 'my-var' is not a valid variable name: use letters, digits and '_', not starting with a digit",
        "4:3 GBCMS_SCHEMA_NAME steps.my step: 'my step' is not a valid step name: use letters, digits, '_', '.' and '-', starting with a letter or digit, at most 63 characters",
      ],
    );
  });

  test('a duplicate list item points at the second one', () => {
    assert.deepEqual(lint(step('    depends_on: []\n    secrets: [NPM_TOKEN, GH_TOKEN, NPM_TOKEN]')), [
      "7:36 GBCMS_SCHEMA_DUPLICATE steps.a.secrets.2: 'NPM_TOKEN' is listed twice (also item 0)",
    ]);
  });

  test('image references must not contain spaces; users look like uid[:gid] or a name', () => {
    const source = lines(
      'version: 1',
      'environments:',
      "  e: {image: 'x y', user: 'me and you'}",
      'steps:',
      "  a: {image: 'node 20', commands: [x]}",
      '  b: {environment: e, commands: [x]}',
    );
    assert.deepEqual(lint(source), [
      "3:14 GBCMS_SCHEMA_PATTERN environments.e.image: 'x y' is not a valid image reference (it must not contain spaces)",
      "3:27 GBCMS_SCHEMA_PATTERN environments.e.user: 'me and you' is not a user like 1000, 1000:1000 or node",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the pipeline syntax, quoted in the message
      "5:14 GBCMS_SCHEMA_PATTERN steps.a.image: 'node 20' is not a valid image reference (it must not contain spaces, except inside ${{ matrix.AXIS }})",
    ]);
  });
});

describe('schema diagnostics: oneOf fan-out collapses to one message per place', () => {
  const when = (body: string) =>
    lint(lines('version: 1', 'steps:', '  a:', '    image: x', '    commands: [x]', `    when: ${body}`));

  test('no alternative fits the type: one "expected A or B" message', () => {
    assert.deepEqual(when('{branch: 5}'), [
      '6:20 GBCMS_SCHEMA_TYPE steps.a.when.branch: expected a string or a list of strings, got 5',
    ]);
    assert.deepEqual(when('{event: 5}'), [
      '6:19 GBCMS_SCHEMA_TYPE steps.a.when.event: expected one of push, pull_request, tag, manual, api, cron or a list of them, got 5',
    ]);
  });

  test('one alternative fits the type: only its errors', () => {
    assert.deepEqual(when('{event: pus}'), [
      "6:19 GBCMS_SCHEMA_ENUM steps.a.when.event: 'pus' is not one of push, pull_request, tag, manual, api, cron; did you mean 'push'?",
    ]);
    assert.deepEqual(when('{event: [push, manaul], tag: []}'), [
      "6:26 GBCMS_SCHEMA_ENUM steps.a.when.event.1: 'manaul' is not one of push, pull_request, tag, manual, api, cron; did you mean 'manual'?",
      '6:40 GBCMS_SCHEMA_EMPTY steps.a.when.tag: must not be an empty list',
    ]);
  });

  test('artifacts: a string or a mapping with path and name', () => {
    const artifacts = (body: string) =>
      lint(
        lines('version: 1', 'steps:', '  a:', '    image: x', '    commands: [x]', `    artifacts: ${body}`),
      );
    assert.deepEqual(artifacts('[7]'), [
      '6:17 GBCMS_SCHEMA_TYPE steps.a.artifacts.0: expected a string or a mapping, got 7',
    ]);
    assert.deepEqual(artifacts('[{path: x, nam: y}]'), [
      "6:27 GBCMS_SCHEMA_UNKNOWN_KEY steps.a.artifacts.0.nam: unknown key 'nam'; did you mean 'name'?",
    ]);
    assert.deepEqual(artifacts('[{name: y}]'), [
      "6:17 GBCMS_SCHEMA_REQUIRED steps.a.artifacts.0: missing required key 'path'",
    ]);
  });
});

describe('config', () => {
  test('is present, typed and plain when the file has no errors', () => {
    const loaded = lintPipelineSource(
      lines(
        'version: 1',
        'name: demo',
        'steps:',
        '  a:',
        '    image: alpine',
        '    commands: [echo hi]',
        '    timeout: 5m',
      ),
      'p.yml',
    );
    assert.deepEqual(loaded.diagnostics, []);
    assert.deepEqual(loaded.config, {
      version: 1,
      name: 'demo',
      steps: { a: { image: 'alpine', commands: ['echo hi'], timeout: '5m' } },
    });
    assert.equal(Object.getPrototypeOf(loaded.config), Object.prototype);
  });

  test('is present despite warnings, absent with any error', () => {
    const warned = lintPipelineSource(
      lines(
        'version: 1',
        'environments: {e: {image: x, user: root}}',
        'steps: {a: {environment: e, commands: [x]}}',
      ),
      'p.yml',
    );
    assert.equal(warned.diagnostics.length, 1);
    assert.equal(warned.diagnostics[0]?.severity, 'warning');
    assert.ok(warned.config);
    const failed = lintPipelineSource(
      lines('version: 1', 'steps: {a: {image: x, commands: [x], retries: -1}}'),
      'p.yml',
    );
    assert.equal(failed.config, undefined);
    assert.equal(failed.file, 'p.yml');
  });

  test('aliases are expanded into independent copies', () => {
    const loaded = lintPipelineSource(
      lines('version: 1', 'steps:', '  a: &s {image: x, commands: [x]}', '  b: *s'),
      'p.yml',
    );
    assert.ok(loaded.config);
    assert.deepEqual(loaded.config.steps.b, loaded.config.steps.a);
    assert.notEqual(loaded.config.steps.b, loaded.config.steps.a);
  });
});
