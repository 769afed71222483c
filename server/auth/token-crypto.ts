// API tokens: what they look like and how they are stored. A token is 32 random bytes, so a
// fast unsalted hash is enough: nothing about it can be guessed or looked up in a table.
import { createHash, randomBytes } from 'node:crypto';

/** Every token starts with this, so a leaked one is easy to spot (secret scanners, logs). */
export const TOKEN_PREFIX = 'gbcms_';

/** How many characters of the secret part are kept in clear, to tell tokens apart in listings. */
export const DISPLAY_PREFIX_LENGTH = 8;

// 32 bytes in base64url without padding.
const TOKEN_PATTERN = /^gbcms_[A-Za-z0-9_-]{43}$/;

/** A new token: `gbcms_` followed by 32 random bytes in base64url (49 characters in all). */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** What the store keeps instead of the token: sha256, lower-case hex. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The first characters of the token's secret part, shown in listings and accepted by
 * `gbcms token revoke`. Taken after `gbcms_`, which would otherwise make every prefix alike.
 */
export function displayPrefix(token: string): string {
  return token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + DISPLAY_PREFIX_LENGTH);
}

/** Whether a string could be a token at all; anything else is rejected without a lookup. */
export function isTokenShaped(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/**
 * Runner tokens are a credential of their own kind: a runner claims and reports work and can
 * call nothing else, and no user token calls the runner endpoints. The prefix tells them apart
 * before any lookup.
 */
export const RUNNER_TOKEN_PREFIX = 'gbcmsr_';
const RUNNER_TOKEN_PATTERN = /^gbcmsr_[A-Za-z0-9_-]{43}$/;

export function generateRunnerToken(): string {
  return RUNNER_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function isRunnerTokenShaped(value: string): boolean {
  return RUNNER_TOKEN_PATTERN.test(value);
}
