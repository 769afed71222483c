// Tests that drive real git skip where it is not installed (the project's own pipeline runs
// its unit tests in a slim node image). Where the real components are required
// (GBCMS_REQUIRE_DOCKER=1, as in CI, which installs git), a missing git is a failure.
import { execFileSync, spawnSync } from 'node:child_process';

const installed = spawnSync('git', ['--version']).status === 0;
if (!installed && process.env.GBCMS_REQUIRE_DOCKER === '1') {
  throw new Error(
    'GBCMS_REQUIRE_DOCKER=1 but git is not installed: the tests that drive real git cannot run',
  );
}

export const gitSkip: { skip: string | false } = {
  skip: installed ? false : 'git is not installed here',
};

/** Runs git in `cwd` and returns its output, trimmed. */
export type Git = (cwd: string, ...args: string[]) => string;

export interface GitAuthor {
  name: string;
  email: string;
}

export const ADA: GitAuthor = { name: 'Ada Lovelace', email: 'ada@example.com' };
export const GRACE: GitAuthor = { name: 'Grace Hopper', email: 'grace@example.com' };

/** This process's environment without the host's git configuration, plus `extra`. */
export function isolatedGitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', ...extra };
}

/** git that commits as `author`, with `main` as the first branch, whatever the host's configuration. */
export function gitAs(author: GitAuthor, extraEnv: NodeJS.ProcessEnv = {}): Git {
  const env = isolatedGitEnv(extraEnv);
  return (cwd, ...args) =>
    execFileSync(
      'git',
      [
        '-c',
        `user.name=${author.name}`,
        '-c',
        `user.email=${author.email}`,
        '-c',
        'init.defaultBranch=main',
        ...args,
      ],
      { cwd, encoding: 'utf8', env },
    ).trim();
}

/** Commits everything in the work tree `work` and returns the new commit's sha. */
export function commitAll(git: Git, work: string, message: string): string {
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', message);
  return git(work, 'rev-parse', 'HEAD');
}
