// The key secrets are sealed with, kept outside the database: GBCMS_SECRET_KEY (base64 of 32
// bytes) when set, else `<data>/secret.key`, made on first use. The file holds base64 too, so
// moving from the file to the variable is a copy. A key file others could read is refused
// rather than used: the database and a readable key together give every value away.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, link, lstat, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KEY_BYTES } from './crypto.ts';

export const KEY_FILE = 'secret.key';
/** During rotation the old key is kept here until every value is sealed with the new one. */
export const OLD_KEY_FILE = 'secret.key.old';
export const KEY_ENV = 'GBCMS_SECRET_KEY';

export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

export interface LoadedKey {
  key: Buffer;
  /** Where it came from, for messages: the variable's name or the file's path. */
  source: string;
}

export function decodeKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (key.length !== KEY_BYTES) {
    throw new SecretKeyError(`${source} must hold ${KEY_BYTES} bytes in base64 (44 characters)`);
  }
  return key;
}

export function newKeyText(): string {
  return `${randomBytes(KEY_BYTES).toString('base64')}\n`;
}

/** The variable when set; otherwise the key file, created when missing. */
export async function loadSecretKey(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedKey> {
  const fromEnv = env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { key: decodeKey(fromEnv, KEY_ENV), source: KEY_ENV };
  const path = join(dataDir, KEY_FILE);
  await createKeyFile(path);
  return { key: await readKeyFile(path), source: path };
}

/** Reads a key file after checking it is a regular file only its owner can read. */
export async function readKeyFile(path: string): Promise<Buffer> {
  const info = await lstat(path);
  if (!info.isFile())
    throw new SecretKeyError(`${path} is not a regular file; refusing to use it as the secret key`);
  if ((info.mode & 0o077) !== 0) {
    throw new SecretKeyError(
      `${path} can be read by others (mode ${(info.mode & 0o777).toString(8)}); make it 600 (chmod 600 ${path})`,
    );
  }
  return decodeKey(await readFile(path, 'utf8'), path);
}

/**
 * Writes a fresh key to `path` unless something is there already. Atomic: the key is written
 * whole to a private temporary file, then hard-linked into place, which fails if the name
 * exists; two servers starting at once end up with the same key, never a half-written one.
 */
export async function createKeyFile(path: string, text = newKeyText()): Promise<boolean> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

/** Replaces the key file's content with `text` atomically (rename), mode 600. */
export async function replaceKeyFile(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/**
 * Checks the key once (creating the file on first start), then returns a source that reads it
 * on every use: after `gbcms secret rotate-key` a running server uses the new key at once.
 */
export async function secretKeySource(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ source: string; read: () => Promise<Buffer> }> {
  const loaded = await loadSecretKey(dataDir, env);
  if (loaded.source === KEY_ENV) return { source: KEY_ENV, read: async () => loaded.key };
  const path = loaded.source;
  return { source: path, read: () => readKeyFile(path) };
}
