// `npm run bench:peer`: gbcms beside gitlab-ci-local (the closest peer: the same job, on a
// developer's machine, on the same Docker engine) on the same pipelines, a 3-job and a 10-job
// chain of busybox jobs. Rounds alternate the two tools; the median wall time of each, from
// spawn to exit, gives the ratio. Target: gbcms at least 5x faster on 3 jobs, more on 10.
//
// The peer is installed here, not in package.json: gitlab-ci-local from the npm registry into
// a cache folder ($GBCMS_PEER_CACHE, default $TMPDIR/gbcms-peer-cache), Node 22 (which it needs)
// from the `node` npm package when this Node is older, and rsync (which it copies the project
// with) from the Debian archive, unpacked into the same folder. No registry is reachable for
// images, so the pull policy is if-not-present and its helper image is the local busybox
// (sh, chown, chmod are all these pipelines need of it). gbcms runs as installed: from the
// JavaScript `npm run build` compiles (built first), not through tsx.
import { type SpawnOptions, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../test/helpers/build-images.ts';
import { REPO } from '../test/package/installed.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CACHE = process.env.GBCMS_PEER_CACHE ?? join(tmpdir(), 'gbcms-peer-cache');
const PEER_VERSION = process.env.GBCMS_PEER_VERSION ?? '4';

interface Finished {
  code: number | null;
  output: string;
  ms: number;
}

function run(command: string, args: string[], options: SpawnOptions = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, ms: performance.now() - started }));
  });
}

async function mustRun(command: string, args: string[], options: SpawnOptions = {}): Promise<Finished> {
  const done = await run(command, args, options);
  if (done.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${done.code}):\n${done.output}`);
  return done;
}

/** gitlab-ci-local's entry, installed into the cache on first use. */
async function peerEntry(): Promise<string> {
  const prefix = join(CACHE, 'gitlab-ci-local');
  const entry = join(prefix, 'node_modules', 'gitlab-ci-local', 'dist', 'index.js');
  if (!existsSync(entry)) {
    console.log(`installing gitlab-ci-local@${PEER_VERSION} into ${prefix}`);
    await mustRun('npm', [
      'install',
      '--prefix',
      prefix,
      '--no-audit',
      '--no-fund',
      `gitlab-ci-local@${PEER_VERSION}`,
    ]);
  }
  return entry;
}

/** A Node of version 22 or later: this one, or one from the `node` npm package. */
async function node22(): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  const prefix = join(CACHE, 'node22');
  const bin = join(prefix, 'node_modules', '.bin', 'node');
  if (!existsSync(bin)) {
    console.log(`installing node@22 into ${prefix}`);
    await mustRun('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', 'node@22']);
  }
  return bin;
}

/** A folder to put before PATH so that `rsync` is found: none when it is installed already. */
async function rsyncPath(): Promise<string[]> {
  if ((await run('rsync', ['--version']).catch(() => ({ code: 1 }))).code === 0) return [];
  const dir = join(CACHE, 'rsync');
  const bin = join(dir, 'root', 'usr', 'bin');
  if (!existsSync(join(bin, 'rsync'))) {
    console.log(`unpacking Debian's rsync into ${dir}`);
    mkdirSync(dir, { recursive: true });
    await mustRun('apt-get', ['download', 'rsync'], { cwd: dir }).catch((error: unknown) => {
      throw new Error(`gitlab-ci-local needs rsync: install it (apt-get install rsync). ${String(error)}`);
    });
    const deb = readdirSync(dir).find((name) => name.startsWith('rsync_') && name.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download rsync left no .deb in ${dir}`);
    await mustRun('dpkg-deb', ['-x', join(dir, deb), join(dir, 'root')]);
  }
  return [bin];
}

/** The same chain for both tools: each job prints its name, after the one before. */
function pipelines(jobs: number): { gitlab: string; gbcms: string } {
  const names = Array.from({ length: jobs }, (_, i) => `job${i}`);
  const gitlab = [
    'stages: [chain]',
    ...names.flatMap((name, i) => [
      `${name}:`,
      '  stage: chain',
      `  image: ${BUSYBOX_IMAGE}`,
      ...(i === 0 ? [] : [`  needs: [${names[i - 1]}]`]),
      `  script: [echo ran-${name}]`,
    ]),
  ];
  const gbcms = [
    'version: 1',
    'name: peer',
    'steps:',
    ...names.flatMap((name, i) => [
      `  ${name}:`,
      `    image: ${BUSYBOX_IMAGE}`,
      ...(i === 0 ? [] : [`    depends_on: [${names[i - 1]}]`]),
      `    commands: [echo ran-${name}]`,
    ]),
  ];
  return { gitlab: `${gitlab.join('\n')}\n`, gbcms: `${gbcms.join('\n')}\n` };
}

/** A git checkout holding both pipeline files, as either tool expects a project. */
async function project(jobs: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `gbcms-peer-${jobs}-`));
  const files = pipelines(jobs);
  writeFileSync(join(dir, '.gitlab-ci.yml'), files.gitlab);
  writeFileSync(join(dir, '.gbcms.yml'), files.gbcms);
  const git = (...args: string[]) =>
    mustRun('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], { cwd: dir });
  await git('init', '-q', '-b', 'main');
  await git('add', '.');
  await git('commit', '-q', '-m', 'pipelines');
  return dir;
}

function checkOutput(tool: string, jobs: number, done: Finished): void {
  if (done.code !== 0) throw new Error(`${tool} exited ${done.code}:\n${done.output}`);
  for (let i = 0; i < jobs; i++) {
    if (!done.output.includes(`ran-job${i}`))
      throw new Error(`${tool}: job${i} printed nothing:\n${done.output}`);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

await ensureBusyboxImage();
console.log('building gbcms (npm run build)');
await mustRun('npm', ['run', '-s', 'build'], { cwd: REPO });
const [entry, node, extraPath] = await Promise.all([peerEntry(), node22(), rsyncPath()]);
const peerEnv = { ...process.env, PATH: [...extraPath, process.env.PATH ?? ''].join(':') };
const peerVersion = (await mustRun(node, [entry, '--version'], { env: peerEnv })).output.trim();

const peer = (dir: string) =>
  run(node, [entry, '--pull-policy', 'if-not-present', '--helper-image', BUSYBOX_IMAGE], {
    cwd: dir,
    env: peerEnv,
  });
// Printed per step, as a developer sees it; --json would only move it to one object.
const gbcms = (dir: string) =>
  run(process.execPath, [join(REPO, 'bin', 'gbcms.js'), 'run', dir, '--backend', 'docker'], {
    cwd: dir,
    env: { ...process.env, GBCMS_FROM_DIST: '1' },
  });

const rows: string[] = [];
for (const jobs of [3, 10]) {
  const dir = await project(jobs);
  try {
    // One of each first: images, caches and the peer's first start are not what is measured.
    checkOutput('gitlab-ci-local', jobs, await peer(dir));
    checkOutput('gbcms', jobs, await gbcms(dir));
    const peers: number[] = [];
    const ours: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const theirs = await peer(dir);
      checkOutput('gitlab-ci-local', jobs, theirs);
      peers.push(theirs.ms);
      const mine = await gbcms(dir);
      checkOutput('gbcms', jobs, mine);
      ours.push(mine.ms);
    }
    const ratio = median(peers) / median(ours);
    const target = jobs === 3 ? 'target >= 5x' : 'target: more than on 3 jobs';
    const line = `| ${jobs}-job chain | ${(median(ours) / 1000).toFixed(2)} s | ${(median(peers) / 1000).toFixed(2)} s | ${ratio.toFixed(1)}x (${target}) |`;
    console.log(line);
    rows.push(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(
  `\ngitlab-ci-local ${peerVersion} on Node ${(await mustRun(node, ['--version'])).output.trim()}, gbcms from this clone on Node ${process.version}; median of ${ROUNDS} alternating rounds, wall time from spawn to exit\n`,
);
console.log('| pipeline | gbcms | gitlab-ci-local | gbcms faster by |\n|---|---|---|---|');
for (const row of rows) console.log(row);
