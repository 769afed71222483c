import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import tarStream from 'tar-stream';
import { packWorkspace } from '../../engine/backends/docker/pack-workspace.ts';
import { listWorkspaceFiles } from '../../engine/workspace.ts';
import { gitSkip } from '../helpers/git.ts';

const roots: string[] = [];

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'gbcms-ws-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], {
    cwd,
    stdio: 'ignore',
  });
}

interface Entry {
  name: string;
  type: string;
  uid: number;
  gid: number;
  mode: number;
  linkname: string;
  body: string;
}

async function readTar(stream: NodeJS.ReadableStream): Promise<Entry[]> {
  const extract = tarStream.extract();
  const entries: Entry[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const h = entry.header;
      entries.push({
        name: h.name,
        type: h.type ?? 'file',
        uid: h.uid ?? -1,
        gid: h.gid ?? -1,
        mode: h.mode ?? 0,
        linkname: h.linkname ?? '',
        body: Buffer.concat(chunks).toString(),
      });
    }
  })();
  stream.pipe(extract);
  await done;
  return entries;
}

after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('listWorkspaceFiles', () => {
  test('outside git: every file, sorted, without .git/ and .gbcms/', async () => {
    const root = tree({
      'b.txt': 'b',
      'a/z.txt': 'z',
      'a/b/c.txt': 'c',
      '.gbcms/runs/x.json': '{}',
      '.git/HEAD': 'ref',
      'sub/.git/config': '',
      '.hidden': 'h',
    });
    assert.deepEqual(await listWorkspaceFiles(root), ['.hidden', 'a/b/c.txt', 'a/z.txt', 'b.txt']);
  });

  test('symlinks are listed as files, not followed', async () => {
    const root = tree({ 'real/f.txt': 'f' });
    symlinkSync('real', join(root, 'link'));
    symlinkSync('/etc', join(root, 'etc-link'));
    assert.deepEqual(await listWorkspaceFiles(root), ['etc-link', 'link', 'real/f.txt']);
  });

  test('in git: tracked and untracked-not-ignored, deleted files left out', gitSkip, async () => {
    const root = tree({
      '.gitignore': 'node_modules/\n*.log\n',
      'src/index.ts': 'x',
      'gone.txt': 'g',
      'node_modules/dep/index.js': 'dep',
      'debug.log': 'log',
      'untracked.md': 'u',
      '.gbcms/run.json': '{}',
    });
    git(root, 'init', '-q');
    git(root, 'add', '.gitignore', 'src/index.ts', 'gone.txt', '.gbcms/run.json');
    git(root, 'commit', '-qm', 'init');
    rmSync(join(root, 'gone.txt'));
    assert.deepEqual(await listWorkspaceFiles(root), ['.gitignore', 'src/index.ts', 'untracked.md']);
  });

  test('in git: a tracked file now a FIFO is left out (a copy would block)', gitSkip, async () => {
    const root = tree({ 'lock.json': '{}', 'a.txt': 'a' });
    git(root, 'init', '-q');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'x');
    rmSync(join(root, 'lock.json'));
    execFileSync('mkfifo', [join(root, 'lock.json')]);
    assert.deepEqual(await listWorkspaceFiles(root), ['a.txt']);
  });

  test('in a subdirectory of a git work tree: paths relative to that directory', gitSkip, async () => {
    const root = tree({ 'app/main.ts': 'm', 'app/lib/util.ts': 'u', 'other/x.ts': 'x' });
    git(root, 'init', '-q');
    assert.deepEqual(await listWorkspaceFiles(join(root, 'app')), ['lib/util.ts', 'main.ts']);
  });

  test('a missing directory is a clear error', async () => {
    await assert.rejects(listWorkspaceFiles('/nonexistent/gbcms-ws'), /does not exist/);
  });
});

describe('packWorkspace', () => {
  test('packs exactly the listed files under the prefix, owned by uid:gid, with parent directories', async () => {
    const root = tree({ 'a/b/c.txt': 'c', 'a/skip.txt': 's', 'top.txt': 'top', 'other/x': 'x' });
    chmodSync(join(root, 'top.txt'), 0o755);
    const entries = await readTar(
      packWorkspace(root, ['a/b/c.txt', 'top.txt'], { uid: 1234, gid: 5678, prefix: 'workspace' }),
    );
    assert.deepEqual(entries.map((e) => `${e.type} ${e.name}`).sort(), [
      'directory workspace',
      'directory workspace/a',
      'directory workspace/a/b',
      'file workspace/a/b/c.txt',
      'file workspace/top.txt',
    ]);
    for (const e of entries) assert.deepEqual([e.uid, e.gid], [1234, 5678], e.name);
    assert.equal(entries.find((e) => e.name === 'workspace/a/b/c.txt')?.body, 'c');
    assert.equal((entries.find((e) => e.name === 'workspace/top.txt')?.mode ?? 0) & 0o111, 0o111);
  });

  test('an empty list still yields the owned root entry', async () => {
    const root = tree({ 'x.txt': 'x' });
    const entries = await readTar(packWorkspace(root, [], { uid: 1000, gid: 1000, prefix: 'workspace/' }));
    assert.deepEqual(
      entries.map((e) => [e.type, e.name, e.uid]),
      [['directory', 'workspace', 1000]],
    );
  });

  test('append adds entries after the files, in the same archive', async () => {
    const root = tree({ 'a.txt': 'a' });
    const entries = await readTar(
      packWorkspace(root, ['a.txt'], {
        uid: 7,
        gid: 7,
        prefix: 'w',
        append: (pack) => pack.entry({ name: 'w/.extra/', type: 'directory', mode: 0o1777 }),
      }),
    );
    assert.deepEqual(
      entries.map((e) => `${e.type} ${e.name}`),
      ['directory w', 'file w/a.txt', 'directory w/.extra/'],
    );
    assert.equal((entries.at(-1)?.mode ?? 0) & 0o7777, 0o1777);
  });

  test('symlinks stay links', async () => {
    const root = tree({});
    symlinkSync('/etc/passwd', join(root, 'pw'));
    const entries = await readTar(packWorkspace(root, ['pw'], { uid: 1, gid: 1, prefix: 'w' }));
    const link = entries.find((e) => e.name === 'w/pw');
    assert.equal(link?.type, 'symlink');
    assert.equal(link?.linkname, '/etc/passwd');
  });
});
