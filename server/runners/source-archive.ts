// The execution's source as a tar, for the runner that took it: made from the server's checkout
// (`git archive` of the fetched commit, or the copied folder of a project that is not a git
// repository). So runners need no forge or git credentials, and run exactly what the server
// compiled the plan from.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-fs';
import { hardenedEnv } from '../git/run-git.ts';

export function sourceArchive(workspace: string): Readable {
  if (!existsSync(join(workspace, '.git'))) return Readable.from(tar.pack(workspace), { objectMode: false });
  const child = spawn('git', ['archive', '--format=tar', 'HEAD'], {
    cwd: workspace,
    env: hardenedEnv(process.env, 'file'),
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  child.on('exit', (code) => {
    // A tar cut short must not pass for a whole one.
    if (code !== 0) child.stdout.destroy(new Error(`git archive ended with ${code}`));
  });
  return child.stdout;
}
