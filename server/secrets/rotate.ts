// Key rotation: every value re-sealed with a fresh key in one transaction. The files move in an
// order that never loses the key the database needs: the new key is written (secret.key.new)
// and the old one backed up (secret.key.old) before anything is re-sealed; only after the
// transaction commits does the new key take the old one's place, and the backup go.
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretRepo } from '../store/index.ts';
import {
  createKeyFile,
  decodeKey,
  KEY_ENV,
  KEY_FILE,
  loadSecretKey,
  newKeyText,
  OLD_KEY_FILE,
  SecretKeyError,
} from './key.ts';
import { resealAll } from './vault.ts';

export const NEW_KEY_FILE = 'secret.key.new';

export interface Rotation {
  resealed: number;
  /**
   * With GBCMS_SECRET_KEY, the file holding the new key (base64): it goes into the variable,
   * and the file is then deleted. Undefined when the key file was rotated in place.
   */
  newKeyFile?: string;
}

export async function rotateSecretKey(
  repo: SecretRepo,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Rotation> {
  const newPath = join(dataDir, NEW_KEY_FILE);
  const oldPath = join(dataDir, OLD_KEY_FILE);
  const current = await loadSecretKey(dataDir, env);
  const text = newKeyText();
  if (!(await createKeyFile(newPath, text))) {
    throw new SecretKeyError(
      `${newPath} exists: an earlier rotation did not finish. If values no longer open with the current key, that file holds the key they need; otherwise delete it`,
    );
  }
  const newKey = decodeKey(text, newPath);
  if (current.source === KEY_ENV) {
    try {
      return { resealed: await resealAll(repo, current.key, newKey), newKeyFile: newPath };
    } catch (error) {
      await rm(newPath, { force: true });
      throw error;
    }
  }
  const keyPath = join(dataDir, KEY_FILE);
  if (!(await createKeyFile(oldPath, `${current.key.toString('base64')}\n`))) {
    await rm(newPath, { force: true });
    throw new SecretKeyError(
      `${oldPath} exists: an earlier rotation did not finish; check it, then delete it`,
    );
  }
  let resealed: number;
  try {
    resealed = await resealAll(repo, current.key, newKey);
  } catch (error) {
    await rm(newPath, { force: true });
    await rm(oldPath, { force: true });
    throw error;
  }
  await rename(newPath, keyPath);
  await rm(oldPath, { force: true });
  return { resealed };
}
