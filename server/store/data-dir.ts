// Where the server keeps its database and executions: --data and --database, or their defaults.
import { resolve } from 'node:path';

export const DEFAULT_DATA_DIR = '.gbcms-data';

/** `--data` if given, else $GBCMS_DATA, else ./.gbcms-data; relative paths resolve against `cwd`. */
export function resolveDataDir(
  option: string | undefined,
  io: { env: NodeJS.ProcessEnv; cwd: string },
): string {
  const chosen = option ?? (io.env.GBCMS_DATA || undefined) ?? DEFAULT_DATA_DIR;
  return resolve(io.cwd, chosen);
}

/** Where the server's data lives: the data directory, and its database when not the SQLite file there. */
export interface DataLocation {
  /** Logs, artifacts, the secret key; and gbcms.sqlite when `database` is undefined. */
  dataDir: string;
  /** A postgres:// URL. */
  database: string | undefined;
}

/** `--database` if given, else $GBCMS_DATABASE_URL, else undefined (the SQLite file). */
export function resolveDatabase(option: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return option ?? (env.GBCMS_DATABASE_URL || undefined);
}
