// A Docker daemon of the test's own, for faults that must not touch the shared engine: it can
// be stopped and started again mid-step. It has its own data and exec roots (hence its own
// containerd, started by dockerd under the exec root), pid file and socket, no bridge and no
// iptables rules, and an empty config (no runtimes beyond runc). It runs in a network
// namespace of its own: `--bridge=none` makes dockerd delete any `docker0` it sees, and in the
// host's namespace that is the shared engine's bridge. Images come from the shared
// engine through save/load, as no registry is reachable. `remove()` stops it and deletes its
// folder; a test calls it from `after`, and process exit stops the daemon as a last resort.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { docker as sharedDocker } from './docker.ts';
import { HANG_MS, pollUntil } from './poll.ts';

export interface PrivateDockerd {
  /** DOCKER_HOST value that reaches it. */
  host: string;
  docker: Docker;
  /**
   * SIGTERM, as `systemctl restart docker` sends, and waits until the daemon has exited.
   * `closeSocketAtOnce` also unlinks its socket right after the signal, so that nothing can
   * reach it from then on: the engine's cleanup then fails for certain rather than racing the
   * second or so the daemon keeps answering after its containers stopped.
   */
  stop(options?: { closeSocketAtOnce?: boolean }): Promise<void>;
  /** Starts it again on the same folders, unless it runs, and waits until it answers. */
  start(): Promise<void>;
  /** Stops it and removes everything it kept. */
  remove(): Promise<void>;
}

/** Why this machine cannot run a private daemon, or undefined when it can. */
export function privateDockerdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'a private dockerd needs root';
  try {
    execFileSync('unshare', ['--net', '--', 'dockerd', '--version'], { stdio: 'ignore' });
  } catch {
    return 'dockerd is not installed, or cannot run in a network namespace of its own';
  }
  return undefined;
}

export async function startPrivateDockerd(images: readonly string[]): Promise<PrivateDockerd> {
  // Short: a unix socket path must fit in 108 bytes.
  const dir = mkdtempSync('/tmp/gbcms-dockerd-');
  const socket = join(dir, 'docker.sock');
  const config = join(dir, 'daemon.json');
  writeFileSync(config, '{}\n');
  const args = [
    '--config-file',
    config,
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'docker.pid'),
    '-H',
    `unix://${socket}`,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-masq=false',
  ];
  const docker = new Docker({ socketPath: socket });
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  const lastResort = () => child?.kill('SIGTERM');
  process.once('exit', lastResort);

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const log = join(dir, 'dockerd.log');
    // unshare execs dockerd in place: the child's pid is the daemon's.
    const spawned = spawn('unshare', ['--net', '--', 'dockerd', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = spawned;
    exited = once(spawned, 'exit');
    let text = '';
    spawned.stderr?.on('data', (chunk: Buffer) => {
      text = (text + chunk.toString()).slice(-20_000);
    });
    void exited.then(() => writeFileSync(log, text));
    await pollUntil('the private dockerd to answer', async () => {
      if (spawned.exitCode !== null) throw new Error(`the private dockerd exited:\n${text.slice(-3000)}`);
      return docker.ping().then(
        () => true,
        () => false,
      );
    });
  };

  const stop = async (options: { closeSocketAtOnce?: boolean } = {}) => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    running.kill('SIGTERM');
    // The daemon may have been quicker and removed it itself.
    if (options.closeSocketAtOnce) rmSync(socket, { force: true });
    const timer = setTimeout(() => running.kill('SIGKILL'), HANG_MS);
    await exited;
    clearTimeout(timer);
  };

  const remove = async () => {
    await stop();
    process.off('exit', lastResort);
    // A daemon that had to be killed leaves its containerd and mounts: end and unmount them.
    const containerdPid = join(dir, 'exec', 'containerd', 'containerd.pid');
    if (existsSync(containerdPid)) {
      try {
        process.kill(Number(readFileSync(containerdPid, 'utf8')), 'SIGKILL');
      } catch {
        // Already gone with its daemon.
      }
    }
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((target) => target.startsWith(`${dir}/`))
      .reverse();
    for (const target of mounts) execFileSync('umount', ['-l', target], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await start();
    for (const image of images) {
      const saved = await sharedDocker.getImage(image).get();
      const loading = await docker.loadImage(saved, { quiet: true });
      for await (const _ of loading as NodeJS.ReadableStream);
      await docker.getImage(image).inspect();
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { host: `unix://${socket}`, docker, stop, start, remove };
}
