// A network namespace of the test's own, joined to the host by a veth pair: a process started
// in it (`exec`) reaches the host only at `hostAddress`, never at the host's 127.0.0.1 (the
// namespace has a loopback of its own). Addresses come from a /30 of 10.231.0.0/16 picked at
// random among those no interface of the host uses. Unix sockets are not network: the Docker
// socket stays reachable from inside. Needs root (`ip netns add`); without it, creation fails
// saying so. `close()` deletes the namespace and the host's end of the pair; a watchdog does
// when the test process is killed first.
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Netns {
  name: string;
  /** The host's end of the veth pair: how processes inside reach the host. */
  hostAddress: string;
  /** The namespace's end. */
  innerAddress: string;
  /** argv that runs `args` inside the namespace: `ip netns exec NAME ...args`. */
  exec(args: readonly string[]): [string, string[]];
  close(): Promise<void>;
}

async function ip(args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

/** A /30 of 10.231.0.0/16 no interface of the host has an address in. */
async function freeSubnet(): Promise<[string, string]> {
  const used = await ip(['-4', '-o', 'addr', 'show']);
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const third = randomInt(0, 256);
    const fourth = randomInt(0, 64) * 4;
    const host = `10.231.${third}.${fourth + 1}`;
    const inner = `10.231.${third}.${fourth + 2}`;
    if (!used.includes(`10.231.${third}.`)) return [host, inner];
  }
  throw new Error('no free /30 in 10.231.0.0/16');
}

/** Whether a TCP connection from inside `name` to `host:port` is accepted (node in the namespace). */
async function connectsFromInside(name: string, host: string, port: number): Promise<boolean> {
  const script = `const s=require('node:net').connect(${port},${JSON.stringify(host)});s.on('connect',()=>{process.stdout.write('connected');s.destroy()});s.on('error',e=>process.stdout.write(e.code));setTimeout(()=>{process.stdout.write('timeout');process.exit()},5000).unref()`;
  const child = spawn('ip', ['netns', 'exec', name, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await once(child, 'close');
  return out.includes('connected');
}

export async function createNetns(): Promise<Netns> {
  if (process.getuid?.() !== 0) {
    throw new Error('a network namespace needs root (ip netns add): run this test as root');
  }
  const id = randomBytes(3).toString('hex');
  const name = `gbcms-${id}`;
  const hostIf = `gbh${id}`;
  const innerIf = `gbn${id}`;
  const [hostAddress, innerAddress] = await freeSubnet();
  const inside = (args: string[]) => ip(['netns', 'exec', name, 'ip', ...args]);
  const close = async () => {
    await ip(['link', 'del', hostIf]).catch(() => {});
    await ip(['netns', 'del', name]).catch(() => {});
  };
  // A killed test process runs no clean-up: a detached shell removes them once it is gone.
  const watchdog = spawn(
    'sh',
    [
      '-c',
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ip link del ${hostIf}; ip netns del ${name}`,
    ],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  try {
    await ip(['netns', 'add', name]);
    await ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', innerIf]);
    await ip(['link', 'set', innerIf, 'netns', name]);
    await ip(['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    await ip(['link', 'set', hostIf, 'up']);
    await inside(['addr', 'add', `${innerAddress}/30`, 'dev', innerIf]);
    await inside(['link', 'set', innerIf, 'up']);
    await inside(['link', 'set', 'lo', 'up']);

    // The point of it: inside, 127.0.0.1 is the namespace's own; the host is at hostAddress.
    const probe = createServer((socket) => socket.destroy());
    probe.listen(0, '0.0.0.0');
    await once(probe, 'listening');
    const address = probe.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      if (await connectsFromInside(name, '127.0.0.1', port)) {
        throw new Error(`namespace ${name} reaches the host's 127.0.0.1:${port}`);
      }
      if (!(await connectsFromInside(name, hostAddress, port))) {
        throw new Error(`namespace ${name} cannot reach the host at ${hostAddress}:${port}`);
      }
    } finally {
      probe.close();
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    name,
    hostAddress,
    innerAddress,
    exec: (args) => ['ip', ['netns', 'exec', name, ...args]],
    close,
  };
}
