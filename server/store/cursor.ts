// Opaque keyset cursors for execution listings: the position after the last row of a page.
// Keyset rather than offset so rows created while someone pages are neither skipped nor
// repeated. Within a project, `number` breaks ties between equal timestamps: unlike the
// random id it also keeps the order newest first. Across projects (the home page) numbers
// repeat, so the id breaks the ties that remain.
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
  const [createdAt, number] = decodeTuple(cursor, 2);
  if (!isNumber(number)) throw new InvalidCursorError();
  return { created_at: createdAt, number };
}

/** The position after a row of a list that spans projects. */
export interface RecentCursorKey extends CursorKey {
  id: string;
}

export function encodeRecentCursor(key: RecentCursorKey): string {
  return Buffer.from(JSON.stringify([key.created_at, key.number, key.id]), 'utf8').toString('base64url');
}

/** Throws InvalidCursorError for anything encodeRecentCursor could not have produced. */
export function decodeRecentCursor(cursor: string): RecentCursorKey {
  const [createdAt, number, id] = decodeTuple(cursor, 3);
  if (!isNumber(number) || typeof id !== 'string' || id.length === 0 || id.length > 64)
    throw new InvalidCursorError();
  return { created_at: createdAt, number, id };
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

/** The cursor's fields, the first of them a timestamp. */
function decodeTuple(cursor: string, length: number): [string, ...unknown[]] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (!Array.isArray(value) || value.length !== length) throw new InvalidCursorError();
  const [createdAt, ...rest] = value as unknown[];
  if (typeof createdAt !== 'string' || !ISO_TIMESTAMP.test(createdAt)) throw new InvalidCursorError();
  return [createdAt, ...rest];
}
