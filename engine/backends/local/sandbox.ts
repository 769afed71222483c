// How the local backend wraps a step's process: in bubblewrap when it is installed (own
// namespaces, read-only host, private /tmp, no network unless asked), else a plain process.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

let bwrapWorks: Promise<boolean> | undefined;

/** Whether `bwrap` is installed and can create namespaces here (it cannot in some containers). */
export function bwrapAvailable(): Promise<boolean> {
  bwrapWorks ??= run('bwrap', ['--unshare-all', '--ro-bind', '/', '/', '--', '/bin/true'], {
    timeout: 5000,
  }).then(
    () => true,
    () => false,
  );
  return bwrapWorks;
}

export interface SandboxSpec {
  workspace: string;
  home: string;
  network: 'none' | 'bridge';
  /** Size of the private /tmp (resources.tmp). HOME is a folder of the scratch copy, on disk. */
  tmpBytes: number;
}

/** argv that runs `command` inside the sandbox with the workspace writable and the rest read-only. */
export function bwrapCommand(spec: SandboxSpec, command: readonly string[]): string[] {
  return [
    'bwrap',
    '--die-with-parent',
    '--unshare-all',
    ...(spec.network === 'bridge' ? ['--share-net'] : []),
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--size',
    String(spec.tmpBytes),
    '--tmpfs',
    '/tmp',
    '--bind',
    spec.workspace,
    spec.workspace,
    '--bind',
    spec.home,
    spec.home,
    '--chdir',
    spec.workspace,
    '--',
    ...command,
  ];
}
