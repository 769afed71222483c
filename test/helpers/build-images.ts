// Builds the images that tests and examples use, locally, from host binaries: no registry
// is needed. `busybox:stable` comes from Debian's busybox-static; `node:20-bookworm-slim`
// is the host's node with its shared libraries and npm, plus busybox for a shell.
// On a machine that can pull, the real images work the same; these stand in when it cannot.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import Docker from 'dockerode';
import tar from 'tar-fs';

export const BUSYBOX_IMAGE = 'busybox:stable';
export const NODE_IMAGE = 'node:20-bookworm-slim';

const docker = new Docker();

// busybox only links applets into directories that exist.
const BUSYBOX_INSTALL =
  'RUN ["/bin/busybox","mkdir","-p","/usr/bin","/usr/sbin","/sbin","/tmp"]\nRUN ["/bin/busybox","--install","-s"]';

async function imageExists(tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

async function buildFromDir(dir: string, tag: string): Promise<void> {
  const stream = await docker.buildImage(Readable.from(tar.pack(dir)), {
    t: tag,
    labels: { 'gbcms.test-image': 'true' },
  });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
      const failed = output?.find((o) => o.error);
      if (err || failed) reject(err ?? new Error(`building ${tag}: ${failed?.error}`));
      else resolve();
    });
  });
}

function busyboxBinary(): string {
  for (const candidate of ['/bin/busybox', '/usr/bin/busybox']) if (existsSync(candidate)) return candidate;
  throw new Error('busybox not found: install Debian package busybox-static');
}

export async function ensureBusyboxImage(tag = BUSYBOX_IMAGE): Promise<string> {
  if (await imageExists(tag)) return tag;
  const dir = mkdtempSync(join(tmpdir(), 'gbcms-img-'));
  try {
    cpSync(busyboxBinary(), join(dir, 'busybox'));
    writeFileSync(
      join(dir, 'Dockerfile'),
      `FROM scratch\nCOPY busybox /bin/busybox\n${BUSYBOX_INSTALL}\nCMD ["sh"]\n`,
    );
    await buildFromDir(dir, tag);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}

/** Shared libraries a binary loads, from ldd, with their real paths. */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const match of out.matchAll(/(\/\S+)/g)) if (match[1]) libs.add(match[1]);
  return [...libs];
}

export async function ensureNodeImage(tag = NODE_IMAGE): Promise<string> {
  if (await imageExists(tag)) return tag;
  const dir = mkdtempSync(join(tmpdir(), 'gbcms-img-'));
  try {
    const root = join(dir, 'rootfs');
    const node = realpathSync(process.execPath);
    const copy = (src: string, dest = src) => {
      mkdirSync(dirname(join(root, dest)), { recursive: true });
      cpSync(src, join(root, dest), { recursive: true, dereference: true });
    };
    copy(node, '/usr/local/bin/node');
    for (const lib of sharedLibraries(node)) copy(lib);
    const npmDir = join(dirname(dirname(node)), 'lib/node_modules/npm');
    if (existsSync(npmDir)) copy(npmDir, '/usr/local/lib/node_modules/npm');
    copy(busyboxBinary(), '/bin/busybox');
    copy('/etc/ssl/certs/ca-certificates.crt');
    writeFileSync(
      join(dir, 'Dockerfile'),
      [
        'FROM scratch',
        'COPY rootfs/ /',
        BUSYBOX_INSTALL,
        'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && mkdir -p /tmp && chmod 1777 /tmp',
        'ENV PATH=/usr/local/bin:/usr/bin:/bin',
        // The host's trust store, so npm in the image trusts what the host trusts (proxies included).
        'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
        'CMD ["node"]',
        '',
      ].join('\n'),
    );
    await buildFromDir(dir, tag);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const tag of [await ensureBusyboxImage(), await ensureNodeImage()]) console.log(`image ready: ${tag}`);
}
