// `gbcms serve` as a process of its own, on a free port, for tests that need the real thing end
// to end (the real manager and backend, a restart that is a real restart).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pollUntil } from '../../helpers/poll.ts';

const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'gbcms.js');

export interface Served {
  url: string;
  child: ChildProcess;
  exited: Promise<unknown[]>;
  output(): string;
}

export async function serveProcess(
  data: string,
  backend: 'docker' | 'local',
  env: NodeJS.ProcessEnv = process.env,
  /** More options for `gbcms serve` (`--dispatch runners`). */
  extraArgs: readonly string[] = [],
): Promise<Served> {
  const child = spawn(
    process.execPath,
    [
      bin,
      'serve',
      '--port',
      '0',
      '--data',
      data,
      '--backend',
      backend,
      '--grace',
      '1s',
      '--log-level',
      'warn',
      ...extraArgs,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit');
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const url = await pollUntil('the server to listen', () => {
    if (gone) throw new Error(`gbcms serve ended before it listened:\n${text}`);
    return /listening on (http:\/\/\S+)/.exec(text)?.[1];
  });
  return { url, child, exited, output: () => text };
}
