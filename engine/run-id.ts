import { randomBytes } from 'node:crypto';

/**
 * `bytes` random bytes as URL-safe base64, never starting with '-': a command line would take
 * such an id for an option (`gbcms report --execution ID`, `gbcms schedule rm ID`).
 */
export function urlSafeId(bytes: number): string {
  for (;;) {
    const id = randomBytes(bytes).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** 128 random bits, URL-safe: a run link can be shared without making other runs guessable. */
export function newRunId(): string {
  return urlSafeId(16);
}
