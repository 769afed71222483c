// Caches on the local backend, on the real host: a folder kept from one run to the next,
// and a fresh one when a key file changes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LocalBackend } from '../../engine/backends/local/backend.ts';
import { localCacheRoot, localCacheTarget } from '../../engine/backends/local/cache.ts';
import { readLogFile } from '../../engine/logs/log-line.ts';
import { runPipeline } from '../../engine/run.ts';
import { planOf, tempDir } from '../helpers/plans.ts';

const image = 'ignored:latest';

async function runWithCache(
  workspace: string,
  cacheRoot: string,
  commands: [string, ...string[]],
  sandbox: boolean,
) {
  const runsDir = tempDir();
  const plan = planOf(
    { install: { image, commands, cache: [{ path: 'node_modules', key: ['lock'] }] } },
    { workspace },
  );
  const run = await runPipeline(plan, {
    backend: new LocalBackend({ sandbox, cacheRoot }),
    runsDir,
    graceMs: 500,
  });
  const log = (await readLogFile(join(runsDir, run.id, run.steps[0]?.log ?? '')))
    .map((l) => l.text)
    .join('\n');
  return { status: run.status, log };
}

describe('local backend: cache', () => {
  test('where caches live: $XDG_CACHE_HOME/gbcms, else ~/.cache/gbcms', () => {
    assert.equal(localCacheRoot({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/gbcms');
    assert.equal(localCacheRoot({}), join(homedir(), '.cache', 'gbcms'));
    const dirs = { workspace: '/s/workspace', home: '/s/home' };
    assert.equal(localCacheTarget('node_modules', dirs), '/s/workspace/node_modules');
    assert.equal(localCacheTarget('/home/gbcms/.npm', dirs), '/s/home/.npm');
    assert.equal(localCacheTarget('/opt/cache', dirs), undefined);
  });

  /** Cache folders, without the `<key>.json` beside each. */
  const folders = (root: string) => readdirSync(root).filter((name) => !name.endsWith('.json'));

  for (const sandbox of [false, true]) {
    test(`a second run sees the first run's files; a new key starts empty (sandbox: ${sandbox})`, async () => {
      const workspace = tempDir();
      const cacheRoot = tempDir();
      writeFileSync(join(workspace, 'lock'), 'v1');
      const marker = randomBytes(8).toString('hex');
      const write = await runWithCache(
        workspace,
        cacheRoot,
        ['test ! -e node_modules/marker', 'mkdir -p node_modules', `echo ${marker} > node_modules/marker`],
        sandbox,
      );
      assert.equal(write.status, 'success', write.log);
      assert.equal(folders(cacheRoot).length, 1);

      const read = await runWithCache(workspace, cacheRoot, ['cat node_modules/marker'], sandbox);
      assert.equal(read.status, 'success', read.log);
      assert.match(read.log, new RegExp(marker), read.log);

      writeFileSync(join(workspace, 'lock'), 'v2');
      const fresh = await runWithCache(
        workspace,
        cacheRoot,
        ['ls -A node_modules', 'test ! -e node_modules/marker'],
        sandbox,
      );
      assert.equal(fresh.status, 'success', fresh.log);
      assert.equal(folders(cacheRoot).length, 2);

      // What a sweep sees: both keys of one slot, scoped to this folder (not a git work tree).
      const { caches } = new LocalBackend({ cacheRoot });
      const kept = await caches.list();
      assert.equal(kept.length, 2);
      assert.deepEqual(new Set(kept.map((c) => c.scope)), new Set([`repository:${realpathSync(workspace)}`]));
      assert.equal(new Set(kept.map((c) => c.slot)).size, 1);
      assert.ok(kept.every((c) => !c.inUse));
      assert.ok(
        kept.some((c) => c.sizeBytes > 0),
        'the first key holds the marker',
      );
      assert.equal(await caches.remove(kept[0]?.key ?? ''), true);
      assert.deepEqual(
        (await caches.list()).map((c) => c.key),
        [kept[1]?.key],
      );
      assert.equal(folders(cacheRoot).length, 1);
    });
  }

  test('a failed step does not save its cache', async () => {
    const workspace = tempDir();
    const cacheRoot = tempDir();
    writeFileSync(join(workspace, 'lock'), 'v1');
    const failed = await runWithCache(
      workspace,
      cacheRoot,
      ['mkdir -p node_modules', 'touch node_modules/half', 'exit 3'],
      false,
    );
    assert.equal(failed.status, 'failure');
    assert.deepEqual(readdirSync(cacheRoot), []);
  });
});
