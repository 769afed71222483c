// `gbcms runner` as a process of its own, with its own data folder, for tests of runners end to
// end (claims over HTTP, a kill -9 that is a real one).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'gbcms.js');

export interface RunnerProcess {
  child: ChildProcess;
  exited: Promise<unknown[]>;
  output(): string;
}

export function runnerProcess(options: {
  server: string;
  token: string;
  data: string;
  name: string;
  backend: 'docker' | 'local';
  capacity?: number;
  labels?: string[];
  /** More `gbcms runner` options. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Runs it through another program: argv [program, ...options] comes before node (`ip netns exec NS`). */
  through?: readonly string[];
}): RunnerProcess {
  const args = [
    bin,
    'runner',
    '--server',
    options.server,
    '--data',
    options.data,
    '--name',
    options.name,
    '--backend',
    options.backend,
    '--capacity',
    String(options.capacity ?? 1),
  ];
  if (options.labels) args.push('--labels', options.labels.join(','));
  if (options.args) args.push(...options.args);
  // The token through the environment, as a service would pass it: not in `ps`.
  const env = { ...(options.env ?? process.env), GBCMS_RUNNER_TOKEN: options.token };
  const [command, ...before] = options.through ?? [];
  const child =
    command === undefined
      ? spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(command, [...before, process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  let text = '';
  const keep = (chunk: Buffer) => {
    text += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, exited, output: () => text };
}
