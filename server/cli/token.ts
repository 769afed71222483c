// `gbcms token`: API tokens for the server, made on the machine that holds its data directory
// (having the files is what authorises it). `create` prints the token alone on stdout so
// scripts can capture it: `TOKEN=$(gbcms token create --role admin)`.
import { parseArgs } from 'node:util';
import type { CliIO } from '../../engine/cli/io.ts';
import { TOKEN_PREFIX } from '../auth/token-crypto.ts';
import {
  type DataLocation,
  MigrationError,
  ROLES,
  type Role,
  type Store,
  type TokenInfo,
} from '../store/index.ts';
import {
  CommandError,
  DATA_OPTION_HELP,
  DATA_OPTIONS,
  hasStore,
  openStoreAt,
  resolveDataLocation,
  UsageError,
} from './data-commands.ts';

const HELP = `usage: gbcms token <command> [options]

commands:
  create --role R [--user NAME] [--name LABEL]
                    make a token and print it (alone, on stdout); creates the user if missing
                    (role admin or developer; NAME defaults to 'admin' for role admin)
  list              show tokens: prefix, user, role, label, created, last used (never the token)
  revoke PREFIX     revoke the token whose prefix (as 'list' shows it) is PREFIX

options:
${DATA_OPTION_HELP}
  -h, --help        this text

exit: 0 done, 1 failed (no such token, ...), 2 invalid usage
`;

const OPTIONS = {
  role: { type: 'string' },
  user: { type: 'string' },
  name: { type: 'string' },
  ...DATA_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export async function tokenCommand(argv: string[], io: CliIO): Promise<number> {
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
    io.stderr.write(`gbcms token: ${(error as Error).message}\n\n${HELP}`);
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
      case 'create':
        expectArguments(rest, 0, 'create');
        return await create(values, location, io);
      case 'list':
        expectArguments(rest, 0, 'list');
        return await withStore(location, false, io, (store) => list(store, io));
      case 'revoke': {
        expectArguments(rest, 1, 'revoke PREFIX');
        const prefix = rest[0] ?? '';
        return await withStore(location, false, io, (store) => revoke(store, prefix, io));
      }
      case undefined:
        throw new UsageError('expected a command: create, list or revoke');
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`gbcms token: ${error.message}\n\n${HELP}`);
      return 2;
    }
    if (error instanceof CommandError || error instanceof MigrationError) {
      io.stderr.write(`gbcms token: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function expectArguments(args: string[], count: number, usage: string): void {
  if (args.length !== count) throw new UsageError(`usage: gbcms token ${usage}`);
}

function parseRole(value: string | undefined): Role | undefined {
  if (value === undefined) return undefined;
  const role = ROLES.find((r) => r === value);
  if (!role) throw new UsageError(`--role must be ${ROLES.join(' or ')}, not '${value}'`);
  return role;
}

async function withStore(
  location: DataLocation,
  create: boolean,
  io: CliIO,
  action: (store: Store) => Promise<number>,
): Promise<number> {
  const fresh = !(await hasStore(location));
  if (fresh && !create) {
    throw new CommandError(`no gbcms data in ${location.dataDir} (use --data DIR or --database URL)`);
  }
  const store = await openStoreAt(location);
  if (fresh) io.stderr.write(`gbcms token: created a new store in ${location.dataDir}\n`);
  try {
    return await action(store);
  } finally {
    await store.close();
  }
}

async function create(values: Values, location: DataLocation, io: CliIO): Promise<number> {
  const role = parseRole(values.role);
  const username = values.user ?? (role === 'admin' ? 'admin' : undefined);
  if (username === undefined) {
    throw new UsageError(role ? `--user is required with --role ${role}` : '--role is required');
  }
  if (username.trim() === '') throw new UsageError('--user must not be empty');
  const label = values.name ?? 'cli';

  return withStore(location, true, io, async (store) => {
    let user = await store.users.byUsername(username);
    if (!user) {
      if (!role) throw new CommandError(`no user '${username}'; give --role to create it`);
      const ensured = await store.users.ensure({ username, role });
      user = ensured.user;
      if (ensured.created) io.stderr.write(`gbcms token: created user '${username}' (${role})\n`);
    }
    // Never change a role as a side effect of making a token.
    if (role && user.role !== role) {
      throw new CommandError(`user '${username}' exists with role ${user.role}, not ${role}`);
    }
    const { token, record } = await store.tokens.create(user.id, label);
    io.stdout.write(`${token}\n`);
    io.stderr.write(
      `gbcms token: token ${TOKEN_PREFIX}${record.prefix}… for '${user.username}' (${user.role}); it is not shown again\n`,
    );
    return 0;
  });
}

function formatTime(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

async function list(store: Store, io: CliIO): Promise<number> {
  const tokens = await store.tokens.list();
  if (tokens.length === 0) {
    io.stderr.write('gbcms token: no tokens\n');
    return 0;
  }
  const header = ['PREFIX', 'USER', 'ROLE', 'NAME', 'CREATED', 'LAST USED', 'STATUS'];
  const rows = tokens.map((t) => [
    `${TOKEN_PREFIX}${t.prefix}`,
    t.username,
    t.role,
    t.name,
    formatTime(t.created_at),
    formatTime(t.last_used_at),
    t.revoked_at === null ? 'active' : `revoked ${formatTime(t.revoked_at)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  io.stdout.write(line(header) + rows.map(line).join(''));
  return 0;
}

async function revoke(store: Store, prefix: string, io: CliIO): Promise<number> {
  const matches = await store.tokens.findByPrefix(prefix);
  const active = matches.filter((t) => t.revoked_at === null);
  if (active.length > 1) {
    const which = active.map(describe).join('\n  ');
    throw new CommandError(
      `prefix '${prefix}' matches ${active.length} tokens; give more characters:\n  ${which}`,
    );
  }
  const target = active[0];
  if (target === undefined) {
    const revoked = matches[0];
    if (revoked === undefined) throw new CommandError(`no token with prefix '${prefix}'`);
    io.stderr.write(`gbcms token: ${describe(revoked)} was already revoked\n`);
    return 0;
  }
  await store.tokens.revoke(target.id);
  io.stderr.write(`gbcms token: revoked ${describe(target)}\n`);
  return 0;
}

function describe(token: TokenInfo): string {
  return `${TOKEN_PREFIX}${token.prefix} ('${token.name}', user '${token.username}')`;
}
