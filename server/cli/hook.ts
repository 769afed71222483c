// `gbcms hook install` puts gbcms's post-receive hook into a bare repository; `gbcms hook notify`
// is what that hook runs on each push.
import { readFile, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIO } from '../../engine/cli/io.ts';
import { HookInstallError, installPostReceiveHook } from '../git/hook-install.ts';
import { notificationUrl, notifyPush, parseReceiveInput, readHookSettings } from '../git/hook-notify.ts';

/** CliIO plus the input `notify` reads git's ref lines from (default: process.stdin). */
export type HookIO = CliIO & { stdin?: AsyncIterable<string | Buffer> };

const HELP = `usage: gbcms hook install GIT_DIR --url URL --project ID (--secret S | --secret-file F)
       gbcms hook notify

install  puts a post-receive hook into the bare repository GIT_DIR: every push then starts
         executions of project ID on the gbcms server at URL. The settings are stored in the
         repository's config (gbcms.url, gbcms.project, gbcms.secret); an existing different
         hook is moved to hooks/post-receive.gbcms-backup.
notify   what the hook runs: reads git's "OLD NEW REF" lines on stdin and notifies the server
         for each updated ref. Never fails, so never fails a push.

options (install):
  --url URL            the gbcms server, e.g. https://ci.example.com
  --project ID         the project the pushes belong to
  --secret S           the project's webhook secret (visible in the process list; prefer --secret-file)
  --secret-file F      read the secret from F (its first line)
  -h, --help           this text

exit (install): 0 installed, 1 could not install, 2 usage error
`;

const MAX_INPUT_BYTES = 16 * 1024 * 1024;

export async function hookCommand(argv: string[], io: HookIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'install') return install(rest, io);
  if (sub === 'notify') return notify(io);
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const problem = sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`;
  io.stderr.write(`gbcms hook: ${problem}\n\n${HELP}`);
  return 2;
}

async function install(argv: string[], io: CliIO): Promise<number> {
  let parsed: ReturnType<typeof parseInstall>;
  try {
    parsed = parseInstall(argv);
  } catch (error) {
    io.stderr.write(`gbcms hook install: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const usage = (message: string) => {
    io.stderr.write(`gbcms hook install: ${message}\n\n${HELP}`);
    return 2;
  };
  if (positionals.length !== 1 || positionals[0] === undefined) return usage('expected one GIT_DIR');
  if (values.url === undefined) return usage('--url is required');
  if (values.project === undefined) return usage('--project is required');
  if ((values.secret === undefined) === (values['secret-file'] === undefined)) {
    return usage('give exactly one of --secret and --secret-file');
  }

  let secret = values.secret ?? '';
  if (values['secret-file'] !== undefined) {
    try {
      secret = (await readFile(resolve(io.cwd, values['secret-file']), 'utf8')).split(/\r?\n/, 1)[0] ?? '';
    } catch (error) {
      io.stderr.write(`gbcms hook install: cannot read --secret-file: ${(error as Error).message}\n`);
      return 1;
    }
  }

  const settings = { url: values.url, project: values.project, secret };
  try {
    const result = await installPostReceiveHook(resolve(io.cwd, positionals[0]), settings);
    io.stdout.write(`installed ${result.hookPath}\n`);
    if (result.previous === 'gbcms') io.stdout.write('  (replaced an earlier gbcms hook)\n');
    if (result.backupPath) {
      io.stdout.write(
        `  the hook that was there is now ${result.backupPath}; it no longer runs on push (call it from your own hook if you still need it)\n`,
      );
    }
    io.stdout.write(`pushes to ${result.gitDir} will notify ${notificationUrl(settings)}\n`);
    io.stdout.write('settings stored in the repository config: gbcms.url, gbcms.project, gbcms.secret\n');
    return 0;
  } catch (error) {
    if (!(error instanceof HookInstallError)) throw error;
    io.stderr.write(`gbcms hook install: ${error.message}\n`);
    return 1;
  }
}

function parseInstall(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      project: { type: 'string' },
      secret: { type: 'string' },
      'secret-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Always 0: the refs are updated by now, and a CI server being down must not look like a failed push. */
async function notify(io: HookIO): Promise<number> {
  const say = (line: string) => io.stderr.write(`${line}\n`);
  try {
    // git runs the hook inside the repository with GIT_DIR set (to '.' for a bare one).
    const gitDir = await realpath(resolve(io.cwd, io.env.GIT_DIR ?? '.'));
    const input = await readAll(io.stdin ?? process.stdin);
    const { refs, problems } = parseReceiveInput(input);
    for (const problem of problems) say(`gbcms: ${problem}`);
    if (refs.length === 0) return 0;
    const settings = await readHookSettings(gitDir);
    if ('missing' in settings) {
      say(
        `gbcms: hook not configured, no notification sent (git config ${settings.missing.join(', ')} missing)`,
      );
      return 0;
    }
    const pusher = io.env.GIT_PUSHER || io.env.USER || io.env.LOGNAME || '';
    await notifyPush({ gitDir, refs, pusher, settings }, say);
  } catch (error) {
    say(`gbcms: notification failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return 0;
}

async function readAll(stream: AsyncIterable<string | Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_INPUT_BYTES) throw new Error(`hook input is larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
