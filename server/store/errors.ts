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
