// `gbcms` as a child process, for inputs that could hang or exhaust the process reading them:
// the test fails at HANG_MS instead of freezing the runner with it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { HANG_MS } from './poll.ts';

const GBCMS = join(import.meta.dirname, '..', '..', 'bin', 'gbcms.js');

export interface ChildResult {
  code: number | null;
  /** stdout and stderr together, as a terminal shows them. */
  output: string;
}

export function gbcmsChild(
  argv: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GBCMS, ...argv], {
      cwd: options.cwd,
      env: { ...process.env, CI: 'true', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gbcms ${argv.join(' ')} still going after ${HANG_MS / 1000} s`));
    }, HANG_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}
