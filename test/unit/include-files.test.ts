// Following local includes through a real folder: the hostile-input rules in each included
// file and for the total, the depth limit, and files that must not be read (links out of
// the repository, FIFOs).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type LoadedPipeline, readPipeline } from '../../engine/pipeline.ts';
import { tempDir } from '../helpers/plans.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A repository holding `files` (relative path -> text); returns the pipeline's result. */
async function lint(
  files: Record<string, string>,
  outside?: string,
): Promise<LoadedPipeline & { dir: string }> {
  const dir = tempDir('gbcms-include-files-');
  dirs.push(dir);
  const repo = join(dir, 'repo');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(repo, name, '..'), { recursive: true });
    writeFileSync(join(repo, name), text);
  }
  if (outside !== undefined) writeFileSync(join(dir, 'secret.yml'), outside);
  const loaded = await readPipeline(join(repo, '.gbcms.yml'), '.gbcms.yml', { workspace: repo });
  return { ...loaded, dir };
}

const where = (loaded: LoadedPipeline) =>
  loaded.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`);
const ROOT = (include: string) =>
  `version: 1\ninclude: [${include}]\nsteps:\n  own: {image: alpine, commands: [a]}\n`;

describe('local includes', () => {
  test('the hostile-input rules apply inside an included file, at its line and column', async () => {
    const loaded = await lint({
      '.gbcms.yml': ROOT('ci/a.yml, ci/b.yml'),
      'ci/a.yml':
        'steps:\n  x:\n    __proto__: {}\n    image: alpine\n    image: debian\n    commands: [a]\n',
      'ci/b.yml': 'templates:\n  t: &t {env: {A: "1"}}\n  u: {<<: *t}\n',
    });
    assert.deepEqual(where(loaded), [
      'ci/a.yml:3:5 GBCMS_YAML_FORBIDDEN_KEY',
      'ci/a.yml:5:5 GBCMS_YAML_DUPLICATE_KEY',
      'ci/b.yml:3:7 GBCMS_YAML_MERGE_KEY',
    ]);
  });

  test('the 1 MiB limit holds for the pipeline and its includes together', async () => {
    const padding = `# ${'x'.repeat(600 * 1024)}\n`;
    const loaded = await lint({
      '.gbcms.yml': ROOT('ci/a.yml, ci/b.yml'),
      'ci/a.yml': `${padding}steps:\n  a: {image: alpine, commands: [a]}\n`,
      'ci/b.yml': `${padding}steps:\n  b: {image: alpine, commands: [b]}\n`,
    });
    assert.deepEqual(where(loaded), ['.gbcms.yml:2:21 GBCMS_INCLUDE_TOO_LARGE']);
    assert.match(loaded.diagnostics[0]?.message ?? '', /more than 1048576 bytes \(1 MiB\)/);
  });

  test('includes nest 4 files deep, not 5', async () => {
    const chain = (n: number) => (n < 5 ? `include: [d${n + 1}.yml]\n` : '');
    const files: Record<string, string> = { '.gbcms.yml': ROOT('d1.yml') };
    for (let n = 1; n <= 5; n++)
      files[`d${n}.yml`] = `${chain(n)}steps:\n  s${n}: {image: alpine, commands: [a]}\n`;
    const loaded = await lint(files);
    assert.deepEqual(where(loaded), ['d4.yml:1:11 GBCMS_INCLUDE_TOO_DEEP']);

    delete files['d5.yml'];
    files['d4.yml'] = 'steps:\n  s4: {image: alpine, commands: [a]}\n';
    const four = await lint(files);
    assert.deepEqual(where(four), []);
    assert.deepEqual(Object.keys(four.config?.steps ?? {}), ['s4', 's3', 's2', 's1', 'own']);
  });

  test('a link out of the repository and a FIFO are not read', async () => {
    const dir = tempDir('gbcms-include-links-');
    dirs.push(dir);
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'ci'), { recursive: true });
    writeFileSync(join(dir, 'secret.yml'), 'steps:\n  leaked: {image: alpine, commands: [a]}\n');
    symlinkSync(join(dir, 'secret.yml'), join(repo, 'ci', 'link.yml'));
    execFileSync('mkfifo', [join(repo, 'ci', 'pipe.yml')]);
    writeFileSync(join(repo, '.gbcms.yml'), ROOT('ci/link.yml, ci/pipe.yml'));
    const loaded = await readPipeline(join(repo, '.gbcms.yml'), '.gbcms.yml', { workspace: repo });
    assert.deepEqual(
      loaded.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}: ${d.message}`),
      [
        "2:11 GBCMS_INCLUDE_UNREADABLE: include.0: 'ci/link.yml' is a symbolic link that leads out of the workspace",
        "2:24 GBCMS_INCLUDE_UNREADABLE: include.1: 'ci/pipe.yml' is a FIFO (named pipe)",
      ],
    );
  });

  test('a glob includes its matches in sorted order, links inside the repository as their files', async () => {
    const loaded = await lint({
      '.gbcms.yml': ROOT('"ci/**/*.yml"'),
      'ci/b.yml': 'steps:\n  b: {image: alpine, commands: [b]}\n',
      'ci/a.yml': 'steps:\n  a: {image: alpine, commands: [a]}\n',
      'ci/sub/c.yml': 'steps:\n  c: {image: alpine, commands: [c]}\n',
      'ci/notes.txt': 'not yaml: [',
    });
    assert.deepEqual(where(loaded), []);
    assert.deepEqual(Object.keys(loaded.config?.steps ?? {}), ['a', 'b', 'c', 'own']);
  });
});
