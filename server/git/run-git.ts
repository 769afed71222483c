// Runs git for the server: argv arrays only (never a shell), no system or user config, no
// prompts, no hooks, a deadline, and the stderr tail in the error. The whole process group is
// killed on timeout, so the helpers git starts (ssh, git-remote-https) go with it.
import { spawn } from 'node:child_process';

export type GitErrorCode =
  /** The repository source failed the URL policy; git never ran. */
  | 'GBCMS_ERR_GIT_SOURCE'
  /** The ref or commit is not a name git may be given. */
  | 'GBCMS_ERR_GIT_REF'
  /** The destination directory exists and is not empty. */
  | 'GBCMS_ERR_GIT_DEST'
  /** git exited non-zero: unreachable remote, unknown ref, authentication... (see `stderrTail`). */
  | 'GBCMS_ERR_GIT_FAILED'
  /** The fetched history does not contain the requested commit. */
  | 'GBCMS_ERR_GIT_COMMIT_NOT_FOUND'
  | 'GBCMS_ERR_GIT_TIMEOUT'
  | 'GBCMS_ERR_GIT_ABORTED';

export class GitError extends Error {
  constructor(
    readonly code: GitErrorCode,
    message: string,
    /** The last lines git wrote to stderr, '' when git did not run. */
    readonly stderrTail = '',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GitError';
  }
}

export interface RunGitOptions {
  cwd: string;
  /** Protocols git may use, as in GIT_ALLOW_PROTOCOL (`https:ssh:git`). */
  allowProtocols: string;
  /** Milliseconds since the epoch when git must have finished. */
  deadline: number;
  signal?: AbortSignal;
  /** The environment to harden; defaults to this process's. */
  baseEnv?: NodeJS.ProcessEnv;
  /**
   * Read the system and user config and skip the `-c` overrides, like a git command the user
   * types: for inspecting a repository on an admin's behalf, never for talking to a remote.
   */
  userConfig?: boolean;
}

// Settings that stay in force whatever a repository's own config says.
const HARDENING = [
  ['protocol.ext.allow', 'never'],
  ['core.hooksPath', '/dev/null'],
  ['submodule.recurse', 'false'],
  ['fetch.recurseSubmodules', 'false'],
  ['core.fsmonitor', 'false'],
  ['init.defaultBranch', 'main'],
  ['advice.detachedHead', 'false'],
].flatMap(([key, value]) => ['-c', `${key}=${value}`]);

// The admin's ssh and TLS setup is kept; every other GIT_* variable could point git elsewhere
// (GIT_DIR, GIT_CONFIG_PARAMETERS, GIT_EXEC_PATH...) and is dropped.
const KEPT_GIT_VARIABLES = new Set([
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_SSH_VARIANT',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
]);

export function hardenedEnv(
  base: NodeJS.ProcessEnv,
  allowProtocols: string,
  userConfig = false,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (!key.startsWith('GIT_') || KEPT_GIT_VARIABLES.has(key)) env[key] = value;
  }
  delete env.SSH_ASKPASS;
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_ALLOW_PROTOCOL = allowProtocols;
  if (!userConfig) {
    env.GIT_CONFIG_NOSYSTEM = '1';
    env.GIT_CONFIG_GLOBAL = '/dev/null';
  }
  env.LC_ALL = 'C';
  // Without a terminal ssh would otherwise wait on a host-key or password prompt until the deadline.
  if (env.GIT_SSH === undefined && env.GIT_SSH_COMMAND === undefined)
    env.GIT_SSH_COMMAND = 'ssh -o BatchMode=yes';
  return env;
}

const STDERR_TAIL_BYTES = 4096;
const STDOUT_LIMIT_BYTES = 64 * 1024 * 1024;

/** Runs `git <hardening> <args>` and resolves with its stdout; rejects with GitError. */
export function runGit(args: readonly string[], options: RunGitOptions): Promise<string> {
  const what = `git ${subcommand(args)}`;
  const remaining = options.deadline - Date.now();
  if (options.signal?.aborted)
    return Promise.reject(new GitError('GBCMS_ERR_GIT_ABORTED', `${what} was aborted`));
  if (remaining <= 0) return Promise.reject(new GitError('GBCMS_ERR_GIT_TIMEOUT', `${what} timed out`));

  return new Promise((resolve, reject) => {
    const child = spawn('git', options.userConfig ? [...args] : [...HARDENING, ...args], {
      cwd: options.cwd,
      env: hardenedEnv(options.baseEnv ?? process.env, options.allowProtocols, options.userConfig),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let stopped: GitError | undefined;

    const stop = (error: GitError) => {
      if (stopped) return;
      stopped = error;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(
      () => stop(new GitError('GBCMS_ERR_GIT_TIMEOUT', `${what} timed out`, tail(stderr))),
      remaining,
    );
    const onAbort = () => stop(new GitError('GBCMS_ERR_GIT_ABORTED', `${what} was aborted`, tail(stderr)));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > STDOUT_LIMIT_BYTES) {
        stop(new GitError('GBCMS_ERR_GIT_FAILED', `${what} printed more than ${STDOUT_LIMIT_BYTES} bytes`));
      } else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_TAIL_BYTES) stderr = stderr.subarray(stderr.length - STDERR_TAIL_BYTES);
    });
    let settled = false;
    const finish = () => {
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (error) => {
      if (settled) return;
      finish();
      reject(new GitError('GBCMS_ERR_GIT_FAILED', `cannot run git: ${error.message}`, '', { cause: error }));
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      finish();
      if (stopped) return reject(stopped);
      if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
      const detail = tail(stderr);
      const how = code === null ? `was killed by ${signal}` : `exited with ${code}`;
      reject(
        new GitError(
          'GBCMS_ERR_GIT_FAILED',
          `${what} ${how}${detail ? `: ${lastLine(detail)}` : ''}`,
          detail,
        ),
      );
    });
  });
}

function subcommand(args: readonly string[]): string {
  let index = 0;
  while (args[index] === '-c') index += 2;
  return args[index] ?? '';
}

function tail(stderr: Buffer): string {
  const text = stderr.toString('utf8').trimEnd();
  // A cut at the byte limit can split a line; drop the partial first one.
  return stderr.length >= STDERR_TAIL_BYTES ? text.slice(text.indexOf('\n') + 1) : text;
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  // git ends with the `fatal:` line that says what went wrong.
  return [...lines].reverse().find((line) => /^(fatal|error):/.test(line)) ?? lines.at(-1) ?? '';
}
