// What the commands that work on the server's data folder share (`gbcms schedule`, `gbcms
// project`): like `gbcms token`, having the files is what authorises them, and the running
// server sees their changes through the same SQLite file.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliIO } from '../../engine/cli/io.ts';
import { DATABASE_FILE, MigrationError, openStore, type Project, type Store } from '../store/index.ts';

/** Bad arguments: the command prints its help and exits 2. */
export class UsageError extends Error {}
/** A request that cannot be done (no such project, invalid input): exit 1. */
export class CommandError extends Error {}

export const DATA_OPTION_HELP = `  --data DIR        the server's data directory (default: $GBCMS_DATA, else ./.gbcms-data)`;

/** Opens the store in `dataDir` for `action`; refuses a folder with no gbcms data in it. */
export async function withExistingStore(
  dataDir: string,
  action: (store: Store) => Promise<number>,
): Promise<number> {
  try {
    await access(join(dataDir, DATABASE_FILE));
  } catch {
    throw new CommandError(`no gbcms data in ${dataDir} (use --data DIR)`);
  }
  const store = await openStore(dataDir);
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
