// `npm run bench:startup`: how fast the installed package starts, against bare Node started
// in the same rounds. Targets: `gbcms --version` within 2x of `node -e 0`, and at most 250 ms
// of gbcms's own time (beyond bare Node) for `gbcms validate` on a small file. The clone's
// tsx start is measured beside them, for the difference a build makes.
// GBCMS_INSTALLED=<project> reuses a project the package is installed in; otherwise this
// packs the clone and installs the tarball first (a minute or two).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installTarball, packClone, REPO } from '../test/package/installed.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const SMALL_PIPELINE = `version: 1
name: small
steps:
  build:
    image: busybox:stable
    commands: [echo build]
  test:
    image: busybox:stable
    depends_on: [build]
    commands: [echo test]
`;

/** Wall time of one process from spawn to exit. */
function time(args: string[], cwd: string): number {
  const started = performance.now();
  const child = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${child.stderr}`);
  return ms;
}

/** Peak memory of one process in MB, by GNU time (Debian package \`time\`) when it is installed. */
function peakMemory(args: string[], cwd: string): string {
  if (!existsSync('/usr/bin/time')) return '';
  const child = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], {
    cwd,
    encoding: 'utf8',
  });
  const kb = Number(child.stderr.trim().split('\n').pop());
  return Number.isFinite(kb) ? `${(kb / 1024).toFixed(0)} MB` : '';
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const reused = process.env.GBCMS_INSTALLED;
const scratch = mkdtempSync(join(tmpdir(), 'gbcms-bench-startup-'));
const project = reused ?? (await installTarball(await packClone(scratch))).project;
const installedBin = join(project, 'node_modules', 'gbcms', 'bin', 'gbcms.js');
const cloneBin = join(REPO, 'bin', 'gbcms.js');
writeFileSync(join(scratch, 'small.yml'), SMALL_PIPELINE);
const small = join(scratch, 'small.yml');

const cases: Record<string, string[]> = {
  'node -e 0': ['-e', '0'],
  'gbcms --version (installed)': [installedBin, '--version'],
  'gbcms validate small.yml (installed)': [installedBin, 'validate', small],
  'gbcms --version (clone, tsx)': [cloneBin, '--version'],
  'gbcms validate small.yml (clone, tsx)': [cloneBin, 'validate', small],
};
const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]));
// One warm-up of each (disk cache, tsx's cache), then rounds that alternate every case so a
// burst of load from elsewhere hits all of them alike.
for (const args of Object.values(cases)) time(args, project);
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, args] of Object.entries(cases)) samples.get(name)?.push(time(args, project));
}

const bare = median(samples.get('node -e 0') ?? []);
console.log(`start-up, median of ${ROUNDS} rounds (node ${process.version}):`);
for (const [name, list] of samples) {
  const ms = median(list);
  const memory = peakMemory(cases[name] ?? [], project);
  console.log(
    `  ${name.padEnd(40)} ${ms.toFixed(0).padStart(5)} ms  ${(ms / bare).toFixed(2)}x bare node  own ${(ms - bare).toFixed(0).padStart(4)} ms  ${memory}`,
  );
}
const version = median(samples.get('gbcms --version (installed)') ?? []);
const validate = median(samples.get('gbcms validate small.yml (installed)') ?? []);
console.log(
  `target --version <= 2x bare node: ${(version / bare).toFixed(2)}x ${version / bare <= 2 ? 'met' : 'MISSED'}`,
);
console.log(
  `target validate own time <= 250 ms: ${(validate - bare).toFixed(0)} ms ${validate - bare <= 250 ? 'met' : 'MISSED'}`,
);
rmSync(scratch, { recursive: true, force: true });
if (!reused) rmSync(project, { recursive: true, force: true });
