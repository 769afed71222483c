import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ensureGbcmsDir } from '../../engine/cli/gbcms-dir.ts';

describe('the .gbcms folder of a workspace', () => {
  const made: string[] = [];
  const workspace = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gbcms-dir-'));
    made.push(dir);
    return dir;
  };
  after(() => Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true }))));

  test('created by gbcms, it ignores everything in it for git', async () => {
    const dir = await ensureGbcmsDir(await workspace());
    const ignore = await readFile(join(dir, '.gitignore'), 'utf8');
    assert.ok(ignore.split('\n').includes('*'), ignore);
  });

  test('a folder that already exists is left as it is, twice in a row included', async () => {
    const root = await workspace();
    await mkdir(join(root, '.gbcms'));
    assert.equal(await ensureGbcmsDir(root), join(root, '.gbcms'));
    assert.deepEqual(await readdir(join(root, '.gbcms')), []);

    const fresh = await workspace();
    await ensureGbcmsDir(fresh);
    await ensureGbcmsDir(fresh);
    assert.deepEqual(await readdir(join(fresh, '.gbcms')), ['.gitignore']);
  });
});
