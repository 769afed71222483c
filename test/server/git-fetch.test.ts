import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fetchCommit, GitError } from '../../server/git/fetch.ts';
import { hardenedEnv, runGit } from '../../server/git/run-git.ts';
import { ADA, commitAll, gitAs } from '../helpers/git.ts';
import { beforeHang } from '../helpers/hang.ts';

const root = mkdtempSync(join(tmpdir(), 'gbcms-fetch-'));
const origin = join(root, 'origin.git');
const work = join(root, 'work');
let destCount = 0;

const git = gitAs(ADA);

function commit(message: string, change: () => void): string {
  change();
  return commitAll(git, work, message);
}

function freshDest(): string {
  destCount += 1;
  return join(root, `dest-${destCount}`);
}

function file(path: string, content: string): void {
  mkdirSync(join(work, path, '..'), { recursive: true });
  writeFileSync(join(work, path), content);
}

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<GitError> {
  const error = await promise.then(
    () => assert.fail('expected a GitError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof GitError, `not a GitError: ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  return error;
}

const commits: Record<string, string> = {};

before(() => {
  git(root, 'init', '-q', '--bare', origin);
  git(root, 'init', '-q', work);
  commits.root = commit('Initial commit', () => {
    file('README.md', 'hello\n');
    file('src/a.ts', 'a\n');
  });
  commits.second = commit('Add b, change a\n\nWith a body.', () => {
    file('src/a.ts', 'a2\n');
    file('src/b.ts', 'b\n');
  });
  git(work, 'tag', '-a', 'v1.0', '-m', 'release 1.0');
  git(work, 'checkout', '-q', '-b', 'feature');
  commits.feature = commit('Feature work', () => file('docs/guide.md', 'guide\n'));
  git(work, 'checkout', '-q', 'main');
  commits.third = commit('Remove README', () => rmSync(join(work, 'README.md')));
  git(work, 'merge', '-q', '--no-ff', '-m', 'Merge feature', 'feature');
  commits.merge = git(work, 'rev-parse', 'HEAD');
  git(work, 'push', '-q', origin, 'main', 'feature', 'v1.0');
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('fetchCommit from a local bare repository', () => {
  const local = { allowLocalPaths: true };

  test('fetches a branch and checks out its head, detached', async () => {
    const dest = freshDest();
    const result = await fetchCommit(origin, { ref: 'main' }, dest, local);
    assert.equal(result.commit, commits.merge);
    assert.equal(result.author, 'Ada Lovelace');
    assert.equal(result.message, 'Merge feature');
    // A merge: changed relative to its first parent (main), i.e. what the feature brought in.
    assert.deepEqual(result.changedPaths, ['docs/guide.md']);
    assert.equal(git(dest, 'rev-parse', 'HEAD'), commits.merge);
    assert.equal(git(dest, 'rev-parse', '--abbrev-ref', 'HEAD'), 'HEAD'); // detached
    assert.ok(existsSync(join(dest, 'docs/guide.md')));
    assert.ok(!existsSync(join(dest, 'README.md')));
  });

  test('fetches a commit by id, with the files of that commit', async () => {
    const dest = freshDest();
    const result = await fetchCommit(origin, { commit: commits.second }, dest, local);
    assert.equal(result.commit, commits.second);
    assert.equal(result.message, 'Add b, change a\n\nWith a body.');
    assert.deepEqual(result.changedPaths?.sort(), ['src/a.ts', 'src/b.ts']);
    assert.equal(readFileSync(join(dest, 'src/a.ts'), 'utf8'), 'a2\n');
    assert.ok(existsSync(join(dest, 'README.md')));
  });

  test('changedPaths lists removed files', async () => {
    const result = await fetchCommit(
      origin,
      { commit: commits.third, ref: 'refs/heads/main' },
      freshDest(),
      local,
    );
    assert.deepEqual(result.changedPaths, ['README.md']);
  });

  test("a repository's first commit changed every file in it", async () => {
    const result = await fetchCommit(origin, { commit: commits.root }, freshDest(), local);
    assert.deepEqual(result.changedPaths?.sort(), ['README.md', 'src/a.ts']);
  });

  test('an annotated tag resolves to its commit', async () => {
    const result = await fetchCommit(origin, { ref: 'refs/tags/v1.0' }, freshDest(), local);
    assert.equal(result.commit, commits.second);
  });

  test('a ref that does not exist is a GitError with git stderr', async () => {
    const error = await rejectsWith(
      fetchCommit(origin, { ref: 'refs/heads/nope' }, freshDest(), local),
      'GBCMS_ERR_GIT_FAILED',
      /git fetch exited with 128: fatal: couldn't find remote ref refs\/heads\/nope/,
    );
    assert.match(error.stderrTail, /couldn't find remote ref/);
  });

  test('a commit that is not on the given ref is reported as such', async () => {
    const missing = 'f'.repeat(40);
    await rejectsWith(
      fetchCommit(origin, { commit: missing, ref: 'main' }, freshDest(), local),
      'GBCMS_ERR_GIT_COMMIT_NOT_FOUND',
      /is not in the last 50 commits of main/,
    );
  });

  test('refuses refs and commits that are not names', async () => {
    for (const ref of ['--upload-pack=touch /tmp/x', 'main:refs/heads/x', '+main', 'a..b', 'a b', '']) {
      await rejectsWith(fetchCommit(origin, { ref }, freshDest(), local), 'GBCMS_ERR_GIT_REF');
    }
    await rejectsWith(fetchCommit(origin, { commit: 'abc123' }, freshDest(), local), 'GBCMS_ERR_GIT_REF');
    await rejectsWith(fetchCommit(origin, {}, freshDest(), local), 'GBCMS_ERR_GIT_REF', /nothing to fetch/);
  });

  test('refuses a destination that is not empty', async () => {
    const dest = freshDest();
    mkdirSync(dest);
    writeFileSync(join(dest, 'keep.txt'), 'x');
    await rejectsWith(fetchCommit(origin, { ref: 'main' }, dest, local), 'GBCMS_ERR_GIT_DEST');
    assert.deepEqual(readdirSync(dest), ['keep.txt']);
  });

  test('refuses a local path unless the caller allows local paths', async () => {
    const dest = freshDest();
    await rejectsWith(fetchCommit(origin, { ref: 'main' }, dest), 'GBCMS_ERR_GIT_SOURCE', /only an admin/);
    assert.ok(!existsSync(dest));
  });

  test('times out and can be aborted', async () => {
    await rejectsWith(
      fetchCommit(origin, { ref: 'main' }, freshDest(), { ...local, timeoutMs: 1 }),
      'GBCMS_ERR_GIT_TIMEOUT',
    );
    await rejectsWith(
      fetchCommit(origin, { ref: 'main' }, freshDest(), { ...local, signal: AbortSignal.abort() }),
      'GBCMS_ERR_GIT_ABORTED',
    );
  });
});

describe('fetchCommit from a remote that hangs', () => {
  test('kills git at the deadline and says it timed out', async () => {
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => sockets.add(socket)); // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      // The remote never answers: without the deadline git would wait for ever.
      await beforeHang(
        rejectsWith(
          fetchCommit(`git://127.0.0.1:${port}/repo.git`, { ref: 'main' }, freshDest(), { timeoutMs: 700 }),
          'GBCMS_ERR_GIT_TIMEOUT',
          /git fetch timed out/,
        ),
        'the fetch from a silent remote',
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });
});

describe('sources that would run commands', () => {
  test('ext:: and option-looking sources are refused before git runs', async () => {
    const marker = join(root, 'pwned');
    for (const source of [
      `ext::sh -c touch% ${marker}`,
      `ext::sh -c "touch ${marker}"`,
      `--upload-pack=touch ${marker}`,
    ]) {
      const dest = freshDest();
      await rejectsWith(
        fetchCommit(source, { ref: 'main' }, dest, { allowLocalPaths: true }),
        'GBCMS_ERR_GIT_SOURCE',
        /repository source refused/,
      );
      assert.ok(!existsSync(dest), 'git init ran');
    }
    assert.ok(!existsSync(marker));
  });

  test('git itself refuses ext:: under the hardened environment (second line of defence)', async () => {
    const marker = join(root, 'pwned-ext');
    const dir = mkdtempSync(join(root, 'ext-'));
    await runGit(['init', '-q', '.'], {
      cwd: dir,
      allowProtocols: 'https:ssh:git',
      deadline: Date.now() + 10_000,
    });
    const error = await runGit(['fetch', `ext::sh -c touch% ${marker}`, 'main'], {
      cwd: dir,
      allowProtocols: 'https:ssh:git',
      deadline: Date.now() + 10_000,
    }).then(
      () => assert.fail('git ran ext::'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof GitError);
    assert.match(error.stderrTail, /transport 'ext' not allowed/);
    assert.ok(!existsSync(marker));
  });

  test('the environment drops GIT_* redirections and turns off prompts and user config', () => {
    const env = hardenedEnv(
      {
        PATH: '/usr/bin',
        HOME: '/home/u',
        GIT_DIR: '/elsewhere',
        GIT_CONFIG_PARAMETERS: "'core.hookspath'='/x'",
        GIT_SSH_COMMAND: 'ssh -i k',
      },
      'https:ssh:git',
    );
    assert.equal(env.GIT_DIR, undefined);
    assert.equal(env.GIT_CONFIG_PARAMETERS, undefined);
    assert.equal(env.GIT_SSH_COMMAND, 'ssh -i k');
    assert.equal(env.GIT_TERMINAL_PROMPT, '0');
    assert.equal(env.GIT_ALLOW_PROTOCOL, 'https:ssh:git');
    assert.equal(env.GIT_CONFIG_NOSYSTEM, '1');
    assert.equal(env.GIT_CONFIG_GLOBAL, '/dev/null');
    assert.equal(env.PATH, '/usr/bin');
    assert.equal(hardenedEnv({}, 'https').GIT_SSH_COMMAND, 'ssh -o BatchMode=yes');
  });
});
