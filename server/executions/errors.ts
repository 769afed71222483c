// Errors the execution manager throws on purpose. The store's NotFoundError covers unknown
// executions.
import { HttpError } from '../errors.ts';

/** The server is shutting down (drain() was called): no new executions. The error handler answers 503. */
export class ShuttingDownError extends HttpError {
  constructor() {
    super('GBCMS_ERR_UNAVAILABLE', 503, 'the server is shutting down and takes no new executions');
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

/** Reports, heartbeats and finish are for external executions only: a pipeline run answers 409. */
export class NotExternalError extends HttpError {
  constructor() {
    super('GBCMS_ERR_NOT_EXTERNAL', 409, 'the execution is not external: gbcms runs it and reports for it');
    this.name = 'NotExternalError';
  }
}
