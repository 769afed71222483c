import { randomBytes } from 'node:crypto';

/** 128 random bits, URL-safe: a run link can be shared without making other runs guessable. */
export function newRunId(): string {
  return randomBytes(16).toString('base64url');
}
