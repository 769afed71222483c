import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../../bin/main.ts';
import { validateCommand } from '../../engine/cli/validate.ts';
import { defaultPipelinePath, PipelineReadError, readPipeline } from '../../engine/pipeline.ts';
import { type CliResult, capture, runCommand } from '../helpers/cli.ts';

const VALID = 'version: 1\nsteps:\n  a:\n    image: alpine\n    commands: [echo hi]\n';
const INVALID =
  'version: 1\nsteps:\n  a:\n    image: alpine\n    commands: [echo hi]\n    timeout: soon\n    retries: 99\n';
const WARNED =
  'version: 1\nenvironments:\n  e: {image: alpine, user: root}\nsteps:\n  a: {environment: e, commands: [x]}\n';

function run(cwd: string, ...args: string[]): Promise<CliResult> {
  return runCommand(validateCommand, args, { cwd });
}

let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gbcms-validate-'));
  await writeFile(join(root, '.gbcms.yml'), VALID);
  await mkdir(join(root, 'bad'));
  await writeFile(join(root, 'bad', '.gbcms.yml'), INVALID);
  await mkdir(join(root, 'yaml-only'));
  await writeFile(join(root, 'yaml-only', '.gbcms.yaml'), VALID);
  await mkdir(join(root, 'both'));
  await writeFile(join(root, 'both', '.gbcms.yml'), VALID);
  await writeFile(join(root, 'both', '.gbcms.yaml'), INVALID);
  await mkdir(join(root, 'empty-dir'));
  await writeFile(join(root, 'warned.yml'), WARNED);
  await writeFile(join(root, 'invalid.yml'), INVALID);
});
after(() => rm(root, { recursive: true, force: true }));

describe('gbcms validate', () => {
  test('with no argument checks .gbcms.yml in the working directory', async () => {
    assert.deepEqual(await run(root), { code: 0, stdout: '', stderr: '.gbcms.yml: valid\n' });
  });

  test('prints FILE:LINE:COL lines on stdout, a summary on stderr, and exits 1 when invalid', async () => {
    assert.deepEqual(await run(root, 'invalid.yml'), {
      code: 1,
      stdout:
        "invalid.yml:6:14: error GBCMS_SCHEMA_DURATION: steps.a.timeout: 'soon' is not a duration like 90s, 10m or 1h30m\n" +
        'invalid.yml:7:14: error GBCMS_SCHEMA_RANGE: steps.a.retries: 99 is out of range: must be at most 10\n',
      stderr: 'invalid.yml: invalid, 2 errors\n',
    });
  });

  test('warnings are printed but the file is valid (exit 0)', async () => {
    const result = await run(root, 'warned.yml');
    assert.equal(result.code, 0);
    assert.match(
      result.stdout,
      /^warned\.yml:3:28: warning GBCMS_BAD_HABIT_ROOT_USER: environments\.e\.user: /,
    );
    assert.equal(result.stderr, 'warned.yml: valid, 1 warning\n');
  });

  test('a DIR stands for DIR/.gbcms.yml, named the way the user typed it', async () => {
    const result = await run(root, 'bad');
    assert.equal(result.code, 1);
    assert.ok(result.stdout.startsWith('bad/.gbcms.yml:6:14: error GBCMS_SCHEMA_DURATION'));
    assert.equal((await run(join(root, 'bad'), '.')).stderr, '.gbcms.yml: invalid, 2 errors\n');
    assert.equal((await run(join(root, 'bad'), '..')).stderr, '../.gbcms.yml: valid\n');
  });

  test('relative paths stay relative, absolute ones absolute', async () => {
    const relative = await run(join(root, 'bad'), '../invalid.yml');
    assert.ok(relative.stdout.startsWith('../invalid.yml:6:14: '));
    const absolute = await run(root, join(root, 'invalid.yml'));
    assert.ok(absolute.stdout.startsWith(`${join(root, 'invalid.yml')}:6:14: `));
  });

  test('.gbcms.yaml is used when it is the only one; .gbcms.yml wins otherwise', async () => {
    assert.equal((await run(root, 'yaml-only')).stderr, 'yaml-only/.gbcms.yaml: valid\n');
    assert.equal((await run(join(root, 'yaml-only'))).stderr, '.gbcms.yaml: valid\n');
    assert.equal((await run(root, 'both')).stderr, 'both/.gbcms.yml: valid\n');
    assert.equal(defaultPipelinePath(join(root, 'both')), join(root, 'both', '.gbcms.yml'));
    assert.equal(defaultPipelinePath(join(root, 'yaml-only')), join(root, 'yaml-only', '.gbcms.yaml'));
    assert.equal(defaultPipelinePath(join(root, 'empty-dir')), join(root, 'empty-dir', '.gbcms.yml'));
  });

  test('several files: every problem, one summary, the worst exit code', async () => {
    const result = await run(root, '.gbcms.yml', 'invalid.yml', 'warned.yml');
    assert.equal(result.code, 1);
    assert.equal(result.stdout.trimEnd().split('\n').length, 3);
    assert.equal(result.stderr, '3 files: 2 valid, 1 invalid (2 errors, 1 warning)\n');
    assert.equal((await run(root, '.gbcms.yml', 'yaml-only')).stderr, '2 files: all valid\n');
  });

  test('a missing or unreadable file exits 2 and says why on stderr', async () => {
    const missing = await run(root, 'nope.yml');
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^gbcms validate: cannot read nope\.yml: no such file\n/);
    const noPipeline = await run(root, 'empty-dir');
    assert.equal(noPipeline.code, 2);
    assert.match(noPipeline.stderr, /cannot read empty-dir\/\.gbcms\.yml: no such file/);
    const device = await run(root, '/dev/null');
    assert.equal(device.code, 2);
    assert.match(device.stderr, /cannot read \/dev\/null: is not a regular file/);
    const mixed = await run(root, 'invalid.yml', 'nope.yml');
    assert.equal(mixed.code, 2);
    assert.ok(mixed.stdout.startsWith('invalid.yml:6:14:'));
  });

  test('--json prints every file with its diagnostics on stdout', async () => {
    const result = await run(root, '--json', 'invalid.yml', '.gbcms.yml', 'nope.yml');
    assert.equal(result.code, 2);
    const parsed = JSON.parse(result.stdout) as {
      files: { file: string; valid: boolean; diagnostics: unknown[] }[];
    };
    assert.deepEqual(
      parsed.files.map((f) => [f.file, f.valid, f.diagnostics.length]),
      [
        ['invalid.yml', false, 2],
        ['.gbcms.yml', true, 0],
        ['nope.yml', false, 1],
      ],
    );
    assert.deepEqual(parsed.files[0]?.diagnostics[0], {
      severity: 'error',
      code: 'GBCMS_SCHEMA_DURATION',
      message: "steps.a.timeout: 'soon' is not a duration like 90s, 10m or 1h30m",
      file: 'invalid.yml',
      path: 'steps.a.timeout',
      line: 6,
      col: 14,
    });
    assert.deepEqual(parsed.files[2]?.diagnostics[0], {
      severity: 'error',
      code: 'GBCMS_FILE_UNREADABLE',
      message: 'cannot read nope.yml: no such file',
      file: 'nope.yml',
      path: '',
    });
    const valid = await run(root, '--json');
    assert.equal(valid.code, 0);
    assert.deepEqual(JSON.parse(valid.stdout), {
      files: [{ file: '.gbcms.yml', valid: true, diagnostics: [] }],
    });
  });

  test('usage: --help exits 0, an unknown option exits 2', async () => {
    const help = await run(root, '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: gbcms validate \[FILE\|DIR \.\.\.\] \[--json\]/);
    const wrong = await run(root, '--jsn');
    assert.equal(wrong.code, 2);
    assert.equal(wrong.stdout, '');
    assert.match(wrong.stderr, /^gbcms validate: Unknown option '--jsn'/);
  });

  test('is reachable as `gbcms validate` through the command dispatcher', async () => {
    const stdout = capture();
    const stderr = capture();
    const code = await main(['validate', 'bad'], {
      stdout,
      stderr,
      env: {},
      cwd: root,
    });
    assert.equal(code, 1);
    assert.equal(stderr.text(), 'bad/.gbcms.yml: invalid, 2 errors\n');
  });
});

describe('readPipeline', () => {
  test('reads and lints a file, naming it as asked', async () => {
    const loaded = await readPipeline(join(root, '.gbcms.yml'), 'shown.yml');
    assert.equal(loaded.file, 'shown.yml');
    assert.deepEqual(loaded.diagnostics, []);
    assert.deepEqual(loaded.config?.steps.a?.commands, ['echo hi']);
    assert.equal(
      (await readPipeline(join(root, 'invalid.yml'))).diagnostics[0]?.file,
      join(root, 'invalid.yml'),
    );
  });

  test('throws PipelineReadError only for I/O problems', async () => {
    await assert.rejects(readPipeline(join(root, 'nope.yml'), 'nope.yml'), (error: unknown) => {
      assert.ok(error instanceof PipelineReadError);
      assert.equal(error.file, 'nope.yml');
      assert.equal(error.message, 'cannot read nope.yml: no such file');
      return true;
    });
    await assert.rejects(readPipeline(root, 'dir'), /cannot read dir: is a directory/);
  });
});
