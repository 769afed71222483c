// Golden files: each broken pipeline under test/fixtures/invalid/ sits beside a .expected
// file holding exactly what `gbcms validate` prints on stdout for it. Regenerate after a
// deliberate message change with GBCMS_UPDATE_GOLDEN=1, then review the diff.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validateCommand } from '../../engine/cli/validate.ts';
import { LINT_CODES } from '../../engine/lint/codes.ts';
import { lintPipelineSource, readPipeline } from '../../engine/pipeline.ts';
import { type CliResult, runCommand } from '../helpers/cli.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const invalidDir = join(repo, 'test/fixtures/invalid');
const validDir = join(repo, 'test/fixtures/valid');

function validate(args: string[], cwd: string): Promise<CliResult> {
  return runCommand(validateCommand, args, { cwd });
}

const ymlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();

describe('golden: gbcms validate on broken files', () => {
  const fixtures = ymlFiles(invalidDir);

  test('there are at least 10 fixtures, and at least 10 of them hold several mistakes', () => {
    assert.ok(fixtures.length >= 10);
    const several = fixtures.filter((name) => {
      const errors = lintPipelineSource(readFileSync(join(invalidDir, name)), name).diagnostics;
      return errors.length >= 2;
    });
    assert.ok(several.length >= 10, several.join());
  });

  for (const name of fixtures) {
    test(name, async () => {
      const { code, stdout, stderr } = await validate([name], invalidDir);
      const expectedFile = join(invalidDir, name.replace(/\.ya?ml$/, '.expected'));
      if (process.env.GBCMS_UPDATE_GOLDEN) writeFileSync(expectedFile, stdout);
      assert.equal(stdout, readFileSync(expectedFile, 'utf8'));
      assert.equal(code, 1);
      assert.match(stderr, new RegExp(`^${name.replaceAll('.', '\\.')}: invalid, \\d+ errors?`));
      for (const line of stdout.trimEnd().split('\n')) {
        const match = /^[^:]+(?::\d+:\d+)?: (?:error|warning) (GBCMS_[A-Z_]+): /.exec(line);
        assert.ok(match, `line shape: ${line}`);
        assert.ok(match[1] && match[1] in LINT_CODES, `code in the table: ${match[1]}`);
      }
    });
  }
});

describe('golden: valid files stay clean', () => {
  for (const name of ymlFiles(validDir)) {
    test(`test/fixtures/valid/${name}`, async () => {
      // Read from disk: a valid file may include others (parts/, shared/).
      const loaded = await readPipeline(join(validDir, name), name);
      assert.deepEqual(loaded.diagnostics, []);
      assert.ok(loaded.config);
    });
  }

  test('the valid fixtures use every field of the schema together', () => {
    const text = ymlFiles(validDir)
      .map((name) => readFileSync(join(validDir, name), 'utf8'))
      .join('\n');
    const fields = [
      'environments:',
      'build:',
      'context:',
      'dockerfile:',
      'args:',
      'resources:',
      'cpus:',
      'memory:',
      'pids:',
      'network:',
      'runtime:',
      'user:',
      'pull:',
      'env:',
      'matrix:',
      'when:',
      'branch:',
      'tag:',
      'event:',
      'path:',
      'artifacts:',
      'name:',
      'reports:',
      'junit:',
      'secrets:',
      'retries:',
      'timeout:',
      'allow_failure:',
      'depends_on:',
      'image:',
      'environment:',
      'commands:',
      'include:',
      'templates:',
      'extends:',
      'concurrency:',
      'group:',
      'cancel_in_progress:',
      'schedules:',
      'cron:',
      'timezone:',
    ];
    for (const field of fields) assert.ok(text.includes(field), field);
  });

  test('the command says valid, exit 0', async () => {
    const { code, stdout, stderr } = await validate(ymlFiles(validDir), validDir);
    assert.equal(code, 0);
    assert.equal(stdout, '');
    assert.equal(stderr, `${ymlFiles(validDir).length} files: all valid\n`);
  });
});

/** Pipeline files under a folder, leaving out run data (.gbcms/) and dependencies. */
function pipelineFiles(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== '.gbcms' && name !== 'node_modules') found.push(...pipelineFiles(path));
    } else if (name === '.gbcms.yml' || name === '.gbcms.yaml') {
      found.push(path);
    }
  }
  return found.sort();
}

describe("the repository's own pipelines are valid", () => {
  const found = pipelineFiles(join(repo, 'examples'));

  test('every example under examples/ has its pipeline, and there are examples', () => {
    const examples = readdirSync(join(repo, 'examples'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `examples/${entry.name}/.gbcms.yml`)
      .sort();
    assert.ok(examples.length >= 1);
    assert.deepEqual(
      found.map((file) => relative(repo, file)),
      examples,
    );
  });

  for (const file of found) {
    test(relative(repo, file), () => {
      assert.deepEqual(lintPipelineSource(readFileSync(file), relative(repo, file)).diagnostics, []);
    });
  }

  test('.gbcms.yml', () => {
    assert.deepEqual(
      lintPipelineSource(readFileSync(join(repo, '.gbcms.yml')), '.gbcms.yml').diagnostics,
      [],
    );
  });
});
