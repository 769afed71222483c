// Session keys: what they look like and how they are stored. Like API tokens (token-crypto.ts)
// a key is 32 random bytes, far past guessing, so an unsalted sha256 is enough; its own prefix
// keeps a key from ever being looked up as a token, and makes a leaked one easy to spot.
import { createHash, randomBytes } from 'node:crypto';

export const SESSION_KEY_PREFIX = 'gbcmsk_';

/** Characters of the secret part kept in clear, to tell keys apart in lists. */
const DISPLAY_PREFIX_LENGTH = 8;

const KEY_PATTERN = /^gbcmsk_[A-Za-z0-9_-]{43}$/;

/** A new key: `gbcmsk_` and 32 random bytes (256 bits) in base64url. */
export function generateSessionKey(): string {
  return SESSION_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashSessionKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function sessionKeyDisplayPrefix(key: string): string {
  return key.slice(SESSION_KEY_PREFIX.length, SESSION_KEY_PREFIX.length + DISPLAY_PREFIX_LENGTH);
}

/** Whether a bearer credential is a session key (valid or not) rather than an API token. */
export function isSessionKeyShaped(value: string): boolean {
  return KEY_PATTERN.test(value);
}
