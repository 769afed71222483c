// Opaque keyset cursors for execution listings: the position after the last row of a page.
// Keyset rather than offset so rows created while someone pages are neither skipped nor
// repeated. Within a project, `number` breaks ties between equal timestamps: unlike the
// random id it also keeps the order newest first.
import { InvalidCursorError } from './errors.ts';

export interface CursorKey {
  created_at: string;
  number: number;
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.created_at, key.number]), 'utf8').toString('base64url');
}

/** Throws InvalidCursorError for anything encodeCursor could not have produced. */
export function decodeCursor(cursor: string): CursorKey {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (!Array.isArray(value) || value.length !== 2) throw new InvalidCursorError();
  const [createdAt, number] = value as unknown[];
  if (typeof createdAt !== 'string' || !ISO_TIMESTAMP.test(createdAt)) throw new InvalidCursorError();
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1)
    throw new InvalidCursorError();
  return { created_at: createdAt, number };
}
