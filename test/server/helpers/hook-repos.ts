// Bare repositories for post-receive hook tests, in one temporary folder. Grace commits and
// pushes (GIT_PUSHER=grace), without the host's git configuration.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { HookIO } from '../../../server/cli/hook.ts';
import { capture } from '../../helpers/cli.ts';
import { type Git, GRACE, gitAs, isolatedGitEnv } from '../../helpers/git.ts';

export const HOOK_SECRET = 'correct horse battery staple';

export interface HookRepos {
  root: string;
  git: Git;
  /** What `git` runs with; for a `git push` spawned by hand. */
  env: NodeJS.ProcessEnv;
  /** A new empty bare repository under root. */
  bareRepo(): string;
  /** Streams for hookCommand that keep its output, working in root, reading `stdin` when given. */
  memoryIO(
    env?: NodeJS.ProcessEnv,
    stdin?: string,
  ): { io: HookIO; stdout: () => string; stderr: () => string };
  remove(): void;
}

export function hookRepos(prefix: string): HookRepos {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const pusher = { GIT_PUSHER: 'grace' };
  const git = gitAs(GRACE, pusher);
  let repos = 0;
  return {
    root,
    git,
    env: isolatedGitEnv(pusher),
    bareRepo() {
      repos += 1;
      const dir = join(root, `repo-${repos}.git`);
      git(root, 'init', '-q', '--bare', dir);
      return dir;
    },
    memoryIO(env = {}, stdin) {
      const stdout = capture();
      const stderr = capture();
      return {
        io: {
          stdout,
          stderr,
          env,
          cwd: root,
          ...(stdin === undefined ? {} : { stdin: Readable.from([stdin]) }),
        },
        stdout: stdout.text,
        stderr: stderr.text,
      };
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
