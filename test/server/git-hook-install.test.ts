import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hookCommand } from '../../server/cli/hook.ts';
import { HookInstallError, installPostReceiveHook, renderHookScript } from '../../server/git/hook-install.ts';
import { hookRepos, HOOK_SECRET as SECRET } from './helpers/hook-repos.ts';

const { root, git, bareRepo, memoryIO, remove } = hookRepos('gbcms-hook-install-');

after(remove);

describe('installPostReceiveHook', () => {
  test('refuses a directory that is not a repository, and a non-bare one', async () => {
    const plain = join(root, 'plain');
    mkdirSync(plain);
    await assert.rejects(
      installPostReceiveHook(plain, { url: 'http://ci', project: 'p', secret: 's' }),
      (e: unknown) => e instanceof HookInstallError && /is not a git repository/.test(e.message),
    );
    const worktree = join(root, 'worktree');
    git(root, 'init', '-q', worktree);
    for (const dir of [worktree, join(worktree, '.git')]) {
      await assert.rejects(
        installPostReceiveHook(dir, { url: 'http://ci', project: 'p', secret: 's' }),
        (e: unknown) =>
          e instanceof HookInstallError && /not a bare repository|not a git repository/.test(e.message),
      );
    }
  });

  test('refuses bad settings', async () => {
    const repo = bareRepo();
    for (const [settings, message] of [
      [{ url: 'ftp://ci', project: 'p', secret: 's' }, /http/],
      [{ url: 'not a url', project: 'p', secret: 's' }, /not a URL/],
      [{ url: 'http://ci', project: '', secret: 's' }, /--project/],
      [{ url: 'http://ci', project: 'p', secret: '' }, /secret is empty/],
      [{ url: 'http://ci', project: 'p', secret: 'a\nb' }, /one line/],
    ] as const) {
      await assert.rejects(installPostReceiveHook(repo, settings), message);
    }
  });

  test('writes an executable sh hook that runs this node and bin/gbcms.js by absolute path', async () => {
    const repo = bareRepo();
    const result = await installPostReceiveHook(repo, {
      url: 'https://ci.example.com/',
      project: 'web',
      secret: SECRET,
    });
    assert.equal(result.hookPath, join(repo, 'hooks', 'post-receive'));
    assert.equal(result.previous, 'none');
    assert.equal(result.backupPath, undefined);
    assert.equal(statSync(result.hookPath).mode & 0o777, 0o755);
    const script = readFileSync(result.hookPath, 'utf8');
    const bin = fileURLToPath(new URL('../../bin/gbcms.js', import.meta.url));
    assert.ok(script.startsWith('#!/bin/sh\n'));
    assert.ok(script.includes(`'${process.execPath}' '${bin}' 'hook' 'notify' || true\n`), script);
    assert.ok(!script.includes(SECRET), 'the secret must not be in the script');
    assert.equal(git(repo, 'config', 'gbcms.url'), 'https://ci.example.com/');
    assert.equal(git(repo, 'config', 'gbcms.project'), 'web');
    assert.equal(git(repo, 'config', 'gbcms.secret'), SECRET);
    assert.equal(spawnSync('sh', ['-n', result.hookPath]).status, 0, 'the script parses as sh');
  });

  test('backs up a different hook, replaces its own, and never overwrites a backup', async () => {
    const repo = bareRepo();
    const hook = join(repo, 'hooks', 'post-receive');
    mkdirSync(join(repo, 'hooks'), { recursive: true });
    writeFileSync(hook, '#!/bin/sh\necho mine\n', { mode: 0o755 });
    const settings = { url: 'http://ci', project: 'p', secret: 's' };

    const first = await installPostReceiveHook(repo, settings);
    assert.equal(first.previous, 'other');
    assert.equal(first.backupPath, `${hook}.gbcms-backup`);
    assert.equal(readFileSync(`${hook}.gbcms-backup`, 'utf8'), '#!/bin/sh\necho mine\n');

    const again = await installPostReceiveHook(repo, settings, { command: ['/opt/node', '/opt/gbcms.js'] });
    assert.equal(again.previous, 'gbcms');
    assert.equal(again.backupPath, undefined);
    assert.match(readFileSync(hook, 'utf8'), /'\/opt\/node' '\/opt\/gbcms.js' 'hook' 'notify'/);

    writeFileSync(hook, '#!/bin/sh\necho theirs\n');
    const third = await installPostReceiveHook(repo, settings);
    assert.equal(third.backupPath, `${hook}.gbcms-backup.1`);
    assert.equal(readFileSync(`${hook}.gbcms-backup`, 'utf8'), '#!/bin/sh\necho mine\n');
    assert.equal(readFileSync(`${hook}.gbcms-backup.1`, 'utf8'), '#!/bin/sh\necho theirs\n');
  });

  test('quotes the command so any path survives sh', () => {
    const script = renderHookScript([
      process.execPath,
      '-e',
      'console.log(JSON.stringify(process.argv.slice(1)))',
      'it\'s $HOME `x` "q"',
    ]);
    const file = join(root, 'quoted.sh');
    writeFileSync(file, script, { mode: 0o755 });
    const run = spawnSync(file, { encoding: 'utf8' });
    assert.equal(run.status, 0);
    assert.deepEqual(JSON.parse(run.stdout), ['it\'s $HOME `x` "q"', 'hook', 'notify']);
  });
});

describe('gbcms hook install (command line)', () => {
  test('installs with --secret-file and prints where notifications go', async () => {
    const repo = bareRepo();
    const secretFile = join(root, 'secret.txt');
    writeFileSync(secretFile, 'from-a-file\n');
    const { io, stdout } = memoryIO();
    const code = await hookCommand(
      ['install', repo, '--url', 'http://ci:8080/', '--project', 'api', '--secret-file', secretFile],
      io,
    );
    assert.equal(code, 0);
    assert.match(stdout(), /installed .*hooks\/post-receive/);
    assert.match(stdout(), /will notify http:\/\/ci:8080\/hooks\/git\/api/);
    assert.equal(git(repo, 'config', 'gbcms.secret'), 'from-a-file');
  });

  test('says what is wrong: usage errors exit 2, install errors exit 1', async () => {
    const repo = bareRepo();
    const cases: [string[], number, RegExp][] = [
      [['install', repo, '--project', 'p', '--secret', 's'], 2, /--url is required/],
      [['install', repo, '--url', 'http://ci', '--secret', 's'], 2, /--project is required/],
      [
        ['install', repo, '--url', 'http://ci', '--project', 'p'],
        2,
        /exactly one of --secret and --secret-file/,
      ],
      [['install', '--url', 'http://ci', '--project', 'p', '--secret', 's'], 2, /expected one GIT_DIR/],
      [
        ['install', join(root, 'missing'), '--url', 'http://ci', '--project', 'p', '--secret', 's'],
        1,
        /not a git repository/,
      ],
      [['frobnicate'], 2, /unknown subcommand 'frobnicate'/],
    ];
    for (const [argv, expected, message] of cases) {
      const { io, stderr } = memoryIO();
      assert.equal(await hookCommand(argv, io), expected, argv.join(' '));
      assert.match(stderr(), message);
    }
  });
});
