// The processes of the server benches: `gbcms serve` (the real CLI), the hello-world baseline
// and the load generator, each a child of its own so that none takes the others' CPU time in
// its own figures.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from './load-client.ts';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'gbcms.js');
const tsx = ['--import', 'tsx'];

export interface Listening {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `args` with node and waits for `listening on <url>` on its stderr. */
async function listening(args: string[], stdoutFile?: string): Promise<Listening> {
  const out = stdoutFile === undefined ? undefined : await open(stdoutFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', out?.fd ?? 'ignore', 'pipe'],
  });
  await out?.close();
  const exited = once(child, 'exit');
  let text = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then(([code]) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${text}`)));
  });
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface ServeOptions {
  data: string;
  backend: 'local' | 'docker';
  /** Where its stdout (the JSON log) goes. */
  logFile: string;
  /** More `gbcms serve` options. */
  args?: string[];
  /** A folder for a CPU profile of the server (node --cpu-prof), written when it stops. */
  cpuProfileDir?: string;
}

/** `gbcms serve` with its default log level, and a rate limit no bench reaches. */
export function serve(options: ServeOptions): Promise<Listening> {
  const profile = options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [];
  return listening(
    [
      ...profile,
      bin,
      'serve',
      '--port',
      '0',
      '--data',
      options.data,
      '--backend',
      options.backend,
      '--grace',
      '1s',
      '--rate-limit',
      '1000000',
      ...(options.args ?? []),
    ],
    options.logFile,
  );
}

export function helloWorld(): Promise<Listening> {
  return listening([...tsx, join(import.meta.dirname, 'hello-world.ts')]);
}

/** One autocannon run from a process of its own. */
export async function load(spec: LoadSpec): Promise<LoadResult> {
  const child = spawn(
    process.execPath,
    [...tsx, join(import.meta.dirname, 'load-client.ts'), JSON.stringify(spec)],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`load client exited with ${code}`);
  return JSON.parse(text) as LoadResult;
}

const TICKS_PER_SECOND = 100;

/** CPU seconds a process has used so far (user + system), from /proc. */
export async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path).catch(() => ({ size: 0 }))).size;
}
