// Errors the store throws on purpose; routes map them to HTTP statuses.

/** A row another one depends on does not exist (an execution for an unknown project). */
export class NotFoundError extends Error {
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} '${id}' not found`);
    this.name = 'NotFoundError';
  }
}

/** A pagination cursor that this store did not produce (or that was tampered with): HTTP 400. */
export class InvalidCursorError extends Error {
  constructor() {
    super('invalid cursor');
    this.name = 'InvalidCursorError';
  }
}

/** A user or project name that is already taken (two callers raced for it: the unique index decided). */
export class NameTakenError extends Error {
  constructor(
    readonly entity: string,
    readonly takenName: string,
    options?: { cause?: unknown },
  ) {
    super(`${entity} '${takenName}' already exists`, options);
    this.name = 'NameTakenError';
  }
}

/** A unique index refused the row: SQLite's constraint codes, PostgreSQL's SQLSTATE 23505. */
export function isUniqueViolation(error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
