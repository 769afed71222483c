import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ArtifactRecord } from '../../engine/backends/types.ts';
import { takeFromFailed } from '../../engine/cli/from-failed.ts';
import { keptArtifacts, stageWorkspace } from '../../engine/rerun/restore.ts';
import { tempDir } from '../helpers/plans.ts';

const RUN_ID = 'akSz_w-KUoo412qYrbcXaA';

function artifact(path: string, size: number): ArtifactRecord {
  return { step: 'build', path, size, sha256: '0'.repeat(64) };
}

describe('restoring reused artifacts', () => {
  test('the staged workspace holds the project files and the restored ones; the project is never written', () => {
    const project = tempDir();
    writeFileSync(join(project, 'VERSION'), '1\n');
    writeFileSync(join(project, 'app.txt'), 'the project copy\n');
    mkdirSync(join(project, 'outside'));
    // A link where the artifact's folder goes: the restore must replace it, not follow it.
    symlinkSync('outside', join(project, 'dist'));
    const artifacts = tempDir();
    mkdirSync(join(artifacts, 'build', 'dist'), { recursive: true });
    writeFileSync(join(artifacts, 'build', 'dist', 'app.js'), 'built\n');
    writeFileSync(join(artifacts, 'build', 'app.txt'), 'the built copy\n');
    const staging = join(tempDir(), 'staged');

    return stageWorkspace(
      project,
      ['VERSION', 'app.txt', 'dist'],
      artifacts,
      [
        { artifact: artifact('build/dist/app.js', 6), workspacePath: 'dist/app.js' },
        { artifact: artifact('build/app.txt', 15), workspacePath: 'app.txt' },
      ],
      staging,
    ).then((files) => {
      assert.deepEqual(files, ['VERSION', 'app.txt', 'dist/app.js']);
      assert.equal(readFileSync(join(staging, 'dist', 'app.js'), 'utf8'), 'built\n');
      assert.ok(lstatSync(join(staging, 'dist')).isDirectory());
      assert.equal(readFileSync(join(staging, 'app.txt'), 'utf8'), 'the built copy\n');
      // The project's own files are untouched, though the staged ones were linked to them.
      assert.equal(readFileSync(join(project, 'app.txt'), 'utf8'), 'the project copy\n');
      assert.ok(lstatSync(join(project, 'dist')).isSymbolicLink());
      assert.deepEqual(readFileSync(join(staging, 'VERSION'), 'utf8'), '1\n');
    });
  });

  test('a restore path out of the workspace is refused', async () => {
    const artifacts = tempDir();
    writeFileSync(join(artifacts, 'x'), 'x');
    await assert.rejects(
      stageWorkspace(
        tempDir(),
        [],
        artifacts,
        [{ artifact: artifact('x', 1), workspacePath: '../x' }],
        join(tempDir(), 's'),
      ),
      /artifact x would be restored outside the workspace/,
    );
  });

  test('only files still there with their recorded size count as kept', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'build'));
    writeFileSync(join(dir, 'build', 'a'), 'aa');
    writeFileSync(join(dir, 'build', 'b'), 'bbb');
    const kept = await keptArtifacts(dir, [
      artifact('build/a', 2),
      artifact('build/b', 2),
      artifact('build/gone', 1),
      artifact('../build/a', 2),
    ]);
    assert.deepEqual([...kept], ['build/a']);
  });
});

describe('--from-failed [RUN_ID] on the command line', () => {
  test('the flag alone, with a run id after it or after =, and a directory after it', () => {
    assert.deepEqual(takeFromFailed(['--from-failed', '--json']), { argv: ['--json'], fromFailed: {} });
    assert.deepEqual(takeFromFailed(['--from-failed', RUN_ID, 'dir']), {
      argv: ['dir'],
      fromFailed: { runId: RUN_ID },
    });
    assert.deepEqual(takeFromFailed([`--from-failed=${RUN_ID}`]), {
      argv: [],
      fromFailed: { runId: RUN_ID },
    });
    assert.deepEqual(takeFromFailed(['--from-failed', 'my-project']), {
      argv: ['my-project'],
      fromFailed: {},
    });
    assert.deepEqual(takeFromFailed(['dir', '--json']), { argv: ['dir', '--json'] });
  });
});
