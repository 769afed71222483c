// Installs gbcms's post-receive hook in a bare repository that people push to, so pushes start
// executions on a gbcms server. The settings, the secret among them, go into the repository's
// config (gbcms.url, gbcms.project, gbcms.secret), not into the script: the script stays the
// same for every repository and can be shown, diffed and reinstalled freely.
import { lstat, mkdir, readFile, realpath, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../engine/package-info.ts';
import { GitError, runGit } from './run-git.ts';
import { hasControlCharacter } from './text.ts';

export interface HookSettings {
  /** Base URL of the gbcms server, e.g. `https://ci.example.com`. */
  url: string;
  project: string;
  /** Shared with the server; signs each notification. */
  secret: string;
}

export interface HookInstallOptions {
  /**
   * The program the hook runs, before the `hook notify` arguments. Default: the node binary
   * running now and this checkout's bin/gbcms.js, both absolute, so the hook needs no PATH.
   */
  command?: readonly string[];
}

export interface HookInstallResult {
  /** Absolute path of the repository. */
  gitDir: string;
  hookPath: string;
  /** What was at hookPath before: nothing, an earlier gbcms hook (replaced), or another hook (moved to backupPath). */
  previous: 'none' | 'gbcms' | 'other';
  backupPath?: string;
}

export class HookInstallError extends Error {
  override name = 'HookInstallError';
}

const MARKER = '# gbcms post-receive hook';
const BACKUP_SUFFIX = '.gbcms-backup';

export function defaultHookCommand(): string[] {
  return [process.execPath, join(packageRoot(), 'bin', 'gbcms.js')];
}

/** The hook script: POSIX sh that passes the push's stdin to `<command> hook notify`. */
export function renderHookScript(command: readonly string[]): string {
  if (command.length === 0) throw new HookInstallError('the hook command is empty');
  for (const part of command) {
    if (hasControlCharacter(part))
      throw new HookInstallError(`hook command part ${JSON.stringify(part)} has a control character`);
  }
  const argv = [...command, 'hook', 'notify'].map(shellQuote).join(' ');
  return `#!/bin/sh
${MARKER} (installed by \`gbcms hook install\`).
# Tells the gbcms server in \`git config gbcms.url\` about each pushed ref; the project and the
# signing secret are in this repository's config too (gbcms.project, gbcms.secret).
# A failed notification never fails the push.
${argv} || true
exit 0
`;
}

/**
 * Installs the hook in `gitDir`, which must be a bare repository, and stores `settings` in its
 * config. An existing hook that gbcms did not write is moved to `post-receive.gbcms-backup`
 * (or `.gbcms-backup.N` when that is taken). Throws HookInstallError with a message for the admin.
 */
export async function installPostReceiveHook(
  gitDir: string,
  settings: HookSettings,
  options: HookInstallOptions = {},
): Promise<HookInstallResult> {
  checkSettings(settings);
  const script = renderHookScript(options.command ?? defaultHookCommand());
  const repo = await inspectRepository(resolve(gitDir));

  const git = (args: string[]) =>
    runGit(['--git-dir', repo.gitDir, ...args], {
      cwd: repo.gitDir,
      allowProtocols: '',
      deadline: Date.now() + 10_000,
      userConfig: true,
    });
  await git(['config', 'gbcms.url', settings.url]);
  await git(['config', 'gbcms.project', settings.project]);
  await git(['config', 'gbcms.secret', settings.secret]);

  await mkdir(repo.hooksDir, { recursive: true });
  const hookPath = join(repo.hooksDir, 'post-receive');
  const previous = await existingHook(hookPath);
  let backupPath: string | undefined;
  if (previous === 'other') {
    backupPath = await freeBackupPath(hookPath);
    await rename(hookPath, backupPath);
  }
  // Written beside and renamed over, so a push never runs a half-written hook.
  const temporary = `${hookPath}.gbcms-${process.pid}`;
  await writeFile(temporary, script, { mode: 0o755 });
  await rename(temporary, hookPath);
  return { gitDir: repo.gitDir, hookPath, previous, ...(backupPath ? { backupPath } : {}) };
}

function checkSettings(settings: HookSettings): void {
  let url: URL;
  try {
    url = new URL(settings.url);
  } catch {
    throw new HookInstallError(`--url '${settings.url}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HookInstallError(`--url must be an http:// or https:// URL, not '${settings.url}'`);
  }
  if (url.search || url.hash) throw new HookInstallError('--url must not have a query or fragment');
  if (settings.project === '' || /\s/.test(settings.project) || hasControlCharacter(settings.project)) {
    throw new HookInstallError('--project must be a non-empty id without spaces');
  }
  if (settings.secret === '') throw new HookInstallError('the secret is empty');
  if (hasControlCharacter(settings.secret))
    throw new HookInstallError('the secret must be one line of printable text');
}

async function inspectRepository(path: string): Promise<{ gitDir: string; hooksDir: string }> {
  let output: string;
  try {
    output = await runGit(
      ['--git-dir', path, 'rev-parse', '--is-bare-repository', '--absolute-git-dir', '--git-path', 'hooks'],
      { cwd: path, allowProtocols: '', deadline: Date.now() + 10_000, userConfig: true },
    );
  } catch (error) {
    const detail =
      error instanceof GitError && error.stderrTail ? ` (${error.stderrTail.split('\n').at(-1)})` : '';
    throw new HookInstallError(`${path} is not a git repository${detail}`, { cause: error });
  }
  const [bare, gitDir = path, hooks = 'hooks'] = output.trim().split('\n');
  if (bare !== 'true') {
    throw new HookInstallError(
      `${path} is not a bare repository; install the hook in the repository people push to (like project.git)`,
    );
  }
  const hooksDir = resolve(path, hooks);
  const [actual, expected] = await Promise.all([
    realpathIfAny(hooksDir),
    realpathIfAny(join(gitDir, 'hooks')),
  ]);
  if (actual !== expected) {
    // core.hooksPath, often shared by every repository: installing there would touch them all.
    throw new HookInstallError(
      `core.hooksPath makes git run this repository's hooks from ${hooksDir}; unset it, or add a post-receive hook there yourself`,
    );
  }
  return { gitDir, hooksDir };
}

async function realpathIfAny(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

async function existingHook(hookPath: string): Promise<HookInstallResult['previous']> {
  const stat = await lstat(hookPath).catch(() => undefined);
  if (!stat) return 'none';
  if (!stat.isFile()) return 'other';
  const content = await readFile(hookPath, 'utf8');
  return content.split('\n', 2)[1]?.startsWith(MARKER) ? 'gbcms' : 'other';
}

async function freeBackupPath(hookPath: string): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = `${hookPath}${BACKUP_SUFFIX}${n === 0 ? '' : `.${n}`}`;
    if (!(await lstat(candidate).catch(() => undefined))) return candidate;
  }
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
