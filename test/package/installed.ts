// gbcms as a user gets it: `npm pack` in this clone (which builds dist/), then
// `npm install ./gbcms-x.y.z.tgz` into an empty project outside the repository. The tarball
// test, the image test and the start-up bench all start from here.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];
const BIG = { maxBuffer: 64 * 1024 * 1024 };

export interface InstalledGbcms {
  /** The empty project gbcms was installed into. */
  project: string;
  tarball: string;
  version: string;
  /** The installed launcher: `node <bin> ...` is what `npx gbcms ...` runs. */
  bin: string;
}

/** Packs this clone into `dir` (running prepack, so the build is fresh) and returns the tarball. */
export async function packClone(dir: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], {
    cwd: REPO,
    ...BIG,
  });
  const name = stdout.trim().split('\n').pop() ?? '';
  if (!name.endsWith('.tgz')) throw new Error(`npm pack printed no tarball name:\n${stdout}`);
  return join(dir, name);
}

function betterSqliteVersion(root: string): string | undefined {
  const file = join(root, 'node_modules', 'better-sqlite3', 'package.json');
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
    : undefined;
}

/**
 * Installs the tarball as a dependency of a new project. Install scripts are skipped so that
 * better-sqlite3 is not compiled again for a minute: the clone's build is the same version for
 * the same Node, so it is copied; any other version is rebuilt for real.
 */
export async function installTarball(tarball: string): Promise<InstalledGbcms> {
  const project = mkdtempSync(join(tmpdir(), 'gbcms-installed-'));
  writeFileSync(
    join(project, 'package.json'),
    '{ "name": "uses-gbcms", "private": true, "type": "module" }\n',
  );
  await run('npm', ['install', '--prefer-offline', '--ignore-scripts', ...NPM_QUIET, tarball], {
    cwd: project,
    ...BIG,
  });
  const cloneBuild = join(REPO, 'node_modules', 'better-sqlite3', 'build');
  if (betterSqliteVersion(REPO) === betterSqliteVersion(project) && existsSync(cloneBuild)) {
    cpSync(cloneBuild, join(project, 'node_modules', 'better-sqlite3', 'build'), { recursive: true });
  } else {
    await run('npm', ['rebuild', 'better-sqlite3', ...NPM_QUIET], { cwd: project, ...BIG });
  }
  const pkg = JSON.parse(readFileSync(join(project, 'node_modules', 'gbcms', 'package.json'), 'utf8')) as {
    version: string;
  };
  return {
    project,
    tarball,
    version: pkg.version,
    bin: join(project, 'node_modules', 'gbcms', 'bin', 'gbcms.js'),
  };
}
