// Errors the execution manager throws on purpose. Each carries a code and the HTTP status a
// route answers with; the store's NotFoundError covers unknown executions.

/** The server is shutting down (drain() was called): no new executions. */
export class ShuttingDownError extends Error {
  readonly code = 'GBCMS_ERR_UNAVAILABLE';
  readonly statusCode = 503;

  constructor() {
    super('the server is shutting down and takes no new executions');
    this.name = 'ShuttingDownError';
  }
}

/**
 * The source could not be had (refused URL, unreachable remote, unknown ref): the execution
 * ends `error` with this message as its reason. `detail` is for the server log only.
 */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly detail?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SourceError';
  }
}
