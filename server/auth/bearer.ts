// Reading the token out of an HTTP `Authorization` header.

export type BearerResult =
  /** No header: the request is anonymous. */
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  /** A header that is not `Bearer <token>`: callers answer 401 rather than treat it as anonymous. */
  | { kind: 'malformed' };

/**
 * Parses `Authorization: Bearer <token>` (scheme case-insensitive, per RFC 7235). Whether the
 * token is valid is the token store's business, not this function's.
 */
export function parseBearer(header: string | undefined): BearerResult {
  if (header === undefined || header.trim() === '') return { kind: 'none' };
  const match = /^Bearer +(\S+)\s*$/i.exec(header.trim());
  const token = match?.[1];
  return token === undefined ? { kind: 'malformed' } : { kind: 'token', token };
}
