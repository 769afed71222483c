// Sealing secret values: AES-256-GCM with a fresh 96-bit nonce per value. The scope and the
// name are the additional authenticated data, so a ciphertext copied onto another secret's row
// (another name, another project) fails to open instead of handing its value to the wrong steps.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealed {
  nonce: Buffer;
  /** The encrypted value followed by the 16-byte tag. */
  ciphertext: Buffer;
}

/** What the ciphertext is bound to: the scope key and the name, separated by a byte no name contains. */
function additionalData(scopeKey: string, name: string): Buffer {
  return Buffer.from(`${scopeKey}\u0000${name}`, 'utf8');
}

export function seal(key: Buffer, scopeKey: string, name: string, value: string): Sealed {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(additionalData(scopeKey, name));
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { nonce, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) };
}

/** Throws when the key is wrong or the row was tampered with or moved (the tag does not match). */
export function open(key: Buffer, scopeKey: string, name: string, sealed: Sealed): string {
  if (sealed.nonce.length !== NONCE_BYTES || sealed.ciphertext.length < TAG_BYTES) {
    throw new Error(`secret ${name}: the stored ciphertext is malformed`);
  }
  const body = sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES);
  const tag = sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce);
  decipher.setAAD(additionalData(scopeKey, name));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}
