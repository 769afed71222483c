// `gbcms secret`: secrets of a gbcms server, managed on the machine that holds its data
// directory (having the files is what authorises it, as for `gbcms token`). A value is read
// from stdin or a file, never from the command line, where the process list would show it.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { count } from '../../engine/cli/count.ts';
import type { CliIO } from '../../engine/cli/io.ts';
import { MIN_SECRET_LENGTH } from '../../engine/logs/masker.ts';
import type { TriggerEvent } from '../../engine/plan.ts';
import { secretKeySource } from '../secrets/key.ts';
import { isSecretName, MAX_SECRET_VALUE_BYTES } from '../secrets/policy.ts';
import { rotateSecretKey } from '../secrets/rotate.ts';
import { type SecretScope, SecretVault, scopeKey, secretView } from '../secrets/vault.ts';
import { SECRET_EVENTS, type Store } from '../store/index.ts';
import {
  CommandError,
  DATA_OPTION_HELP,
  DATA_OPTIONS,
  resolveDataLocation,
  UsageError,
  withExistingStore,
} from './data-commands.ts';

const HELP = `usage: gbcms secret <command> [options]

commands:
  set NAME (--project ID | --global) [--file F] [--events E,E] [--branches G,G]
                    set or replace a secret; the value is read from stdin (one trailing
                    newline removed) or from F as it is
  list (--project ID | --global)
                    show secrets: name, events, branches, who set it, when (never values)
  rm NAME (--project ID | --global)
                    remove a secret
  rotate-key        re-encrypt every secret with a new key (see README, "Secrets")

options:
  --project ID      the project's secrets (its id, as the API and pages show it)
  --global          secrets every project gets unless it has its own of the same name
  --events E,E      only for these events: ${SECRET_EVENTS.join(', ')}
  --branches G,G    only on branches matching these globs (main,release/*)
${DATA_OPTION_HELP}
  -h, --help        this text

exit: 0 done, 1 failed (no such secret, project or key, ...), 2 invalid usage
`;

const OPTIONS = {
  project: { type: 'string' },
  global: { type: 'boolean' },
  file: { type: 'string' },
  events: { type: 'string' },
  branches: { type: 'string' },
  ...DATA_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export async function secretCommand(
  argv: string[],
  io: CliIO,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    io.stderr.write(`gbcms secret: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  try {
    const location = resolveDataLocation(values, io);
    switch (command) {
      case 'set': {
        const name = secretName(rest, 'set NAME');
        const scope = scopeOf(values);
        const limits = { events: parseEvents(values.events), branches: parseList(values.branches) };
        const value = await readValue(values.file, io, stdin);
        return await withExistingStore(location, async (store) => {
          await checkProject(store, scope);
          const key = await secretKeySource(store.dataDir, io.env);
          await new SecretVault(store.secrets, key.read).set(scope, { name, value, limits, by: 'cli' });
          io.stderr.write(`gbcms secret: ${name} set (${describeScope(scope)})\n`);
          return 0;
        });
      }
      case 'list': {
        if (rest.length > 0) throw new UsageError('usage: gbcms secret list (--project ID | --global)');
        const scope = scopeOf(values);
        return await withExistingStore(location, async (store) => {
          await checkProject(store, scope);
          list(await store.secrets.list(scopeKey(scope)).then((rows) => rows.map(secretView)), io);
          return 0;
        });
      }
      case 'rm': {
        const name = secretName(rest, 'rm NAME');
        const scope = scopeOf(values);
        return await withExistingStore(location, async (store) => {
          if (!(await store.secrets.remove(scopeKey(scope), name))) {
            throw new CommandError(`no secret ${name} (${describeScope(scope)})`);
          }
          io.stderr.write(`gbcms secret: ${name} removed (${describeScope(scope)})\n`);
          return 0;
        });
      }
      case 'rotate-key': {
        if (rest.length > 0) throw new UsageError('usage: gbcms secret rotate-key [--data DIR]');
        return await withExistingStore(location, async (store) => {
          const rotation = await rotateSecretKey(store.secrets, store.dataDir, io.env);
          io.stderr.write(
            `gbcms secret: ${count(rotation.resealed, 'secret')} re-encrypted with a new key\n`,
          );
          if (rotation.newKeyFile) {
            io.stderr.write(
              `gbcms secret: the new key is in ${rotation.newKeyFile}: put its content in GBCMS_SECRET_KEY, restart the server, then delete the file\n`,
            );
          }
          return 0;
        });
      }
      case undefined:
        throw new UsageError('expected a command: set, list, rm or rotate-key');
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`gbcms secret: ${error.message}\n\n${HELP}`);
      return 2;
    }
    if (error instanceof CommandError || (error as Error).name === 'SecretKeyError') {
      io.stderr.write(`gbcms secret: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

function secretName(args: string[], usage: string): string {
  if (args.length !== 1) throw new UsageError(`usage: gbcms secret ${usage}`);
  const name = args[0] ?? '';
  if (!isSecretName(name)) {
    throw new UsageError(
      `'${name}' is not a secret name: letters, digits and _, not starting with a digit, 4 or more`,
    );
  }
  return name;
}

function scopeOf(values: Values): SecretScope {
  if ((values.project === undefined) === (values.global !== true)) {
    throw new UsageError('give exactly one of --project ID and --global');
  }
  return values.project !== undefined ? { kind: 'project', projectId: values.project } : { kind: 'global' };
}

function describeScope(scope: SecretScope): string {
  return scope.kind === 'global' ? 'global' : `project ${scope.projectId}`;
}

function parseList(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) throw new UsageError('an empty list; leave the option out to allow everything');
  return [...new Set(items)];
}

function parseEvents(text: string | undefined): TriggerEvent[] | null {
  const items = parseList(text);
  if (items === null) return null;
  for (const item of items) {
    if (!(SECRET_EVENTS as readonly string[]).includes(item)) {
      throw new UsageError(`--events: '${item}' is not one of ${SECRET_EVENTS.join(', ')}`);
    }
  }
  return items as TriggerEvent[];
}

async function readValue(file: string | undefined, io: CliIO, stdin: NodeJS.ReadableStream): Promise<string> {
  let value: string;
  if (file !== undefined) {
    try {
      value = await readFile(resolve(io.cwd, file), 'utf8');
    } catch (error) {
      throw new CommandError(`cannot read --file: ${(error as Error).message}`);
    }
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    // `echo value | gbcms secret set` adds a newline nobody meant as part of the value.
    value = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  if (value.length < MIN_SECRET_LENGTH) {
    throw new CommandError(
      `the value is ${value.length} characters long; at least ${MIN_SECRET_LENGTH} are needed to mask it`,
    );
  }
  if (Buffer.byteLength(value) > MAX_SECRET_VALUE_BYTES) {
    throw new CommandError(`the value is larger than ${MAX_SECRET_VALUE_BYTES} bytes`);
  }
  if (value.includes('\u0000')) throw new CommandError('the value contains a NUL character');
  return value;
}

async function checkProject(store: Store, scope: SecretScope): Promise<void> {
  if (scope.kind === 'project' && !(await store.projects.get(scope.projectId))) {
    throw new CommandError(`no project ${scope.projectId}`);
  }
}

function list(secrets: ReturnType<typeof secretView>[], io: CliIO): void {
  if (secrets.length === 0) {
    io.stderr.write('gbcms secret: no secrets\n');
    return;
  }
  const header = ['NAME', 'EVENTS', 'BRANCHES', 'UPDATED BY', 'UPDATED'];
  const rows = secrets.map((s) => [
    s.name,
    s.events?.join(',') ?? 'all',
    s.branches?.join(',') ?? 'all',
    s.updated_by,
    `${s.updated_at.slice(0, 10)} ${s.updated_at.slice(11, 16)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  io.stdout.write(line(header) + rows.map(line).join(''));
}
