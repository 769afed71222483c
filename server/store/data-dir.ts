// Where the server keeps its database and executions when no --data is given.
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
