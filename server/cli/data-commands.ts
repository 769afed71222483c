// What the commands that work on the server's data share (`gbcms schedule`, `gbcms project`,
// `gbcms token`, `gbcms secret`): having the files (or the database's URL) is what authorises
// them, and the running server sees their changes through the same database.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliIO } from '../../engine/cli/io.ts';
import {
  DATABASE_FILE,
  type DataLocation,
  isPostgresUrl,
  MigrationError,
  openStore,
  type Project,
  resolveDatabase,
  resolveDataDir,
  type Store,
} from '../store/index.ts';

/** Bad arguments: the command prints its help and exits 2. */
export class UsageError extends Error {}
/** A request that cannot be done (no such project, invalid input): exit 1. */
export class CommandError extends Error {}

export const DATA_OPTION_HELP = `  --data DIR        the server's data directory (default: $GBCMS_DATA, else ./.gbcms-data)
  --database URL    the server's PostgreSQL database, postgres://... (default: $GBCMS_DATABASE_URL,
                    else the SQLite file in the data directory)`;

/** The options every data command takes. */
export const DATA_OPTIONS = {
  data: { type: 'string' },
  database: { type: 'string' },
} as const;

/** --data and --database (or their environment variables), checked. Throws UsageError. */
export function resolveDataLocation(
  values: { data?: string | undefined; database?: string | undefined },
  io: Pick<CliIO, 'env' | 'cwd'>,
): DataLocation {
  const database = resolveDatabase(values.database, io.env);
  if (database !== undefined && !isPostgresUrl(database)) {
    throw new UsageError(`--database must be a postgres:// URL, not '${database}'`);
  }
  return { dataDir: resolveDataDir(values.data, io), database };
}

/**
 * Whether the server's data is there. A SQLite store is its file in the data directory; a
 * PostgreSQL database exists once its operator made it (createdb), and opening it migrates it.
 */
export async function hasStore(location: DataLocation): Promise<boolean> {
  if (location.database !== undefined) return true;
  try {
    await access(join(location.dataDir, DATABASE_FILE));
    return true;
  } catch {
    return false;
  }
}

export function openStoreAt(location: DataLocation): Promise<Store> {
  return openStore(location.dataDir, { database: location.database });
}

/** Opens the store at `location` for `action`; refuses a folder with no gbcms data in it. */
export async function withExistingStore(
  location: DataLocation,
  action: (store: Store) => Promise<number>,
): Promise<number> {
  if (!(await hasStore(location))) {
    throw new CommandError(`no gbcms data in ${location.dataDir} (use --data DIR or --database URL)`);
  }
  const store = await openStoreAt(location);
  try {
    return await action(store);
  } finally {
    await store.close();
  }
}

/** A project by id, else by name. */
export async function findProject(store: Store, idOrName: string): Promise<Project> {
  const project = (await store.projects.get(idOrName)) ?? (await store.projects.byName(idOrName));
  if (!project) throw new CommandError(`no project '${idOrName}' (give its id or name)`);
  return project;
}

/** Columns padded to their widest cell, a header first. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  return line(header) + rows.map(line).join('');
}

/** `2026-03-01 10:05` (UTC) or `-`. */
export function shortTime(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** Runs `body`, turning UsageError and CommandError into their message and exit code. */
export async function reportErrors(
  command: string,
  help: string,
  io: CliIO,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`gbcms ${command}: ${(error as Error).message}\n\n${help}`);
      return 2;
    }
    // A database gbcms cannot use (newer than the code, a failed migration) is the operator's to fix.
    if (error instanceof CommandError || error instanceof MigrationError) {
      io.stderr.write(`gbcms ${command}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
