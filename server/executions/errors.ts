// Errors the execution manager throws on purpose. Each carries a code and no HTTP status: what a
// client is told is the routes' business (server/routes/execution-errors.ts). The store's
// NotFoundError covers unknown executions.

export type ExecutionErrorCode = 'SHUTTING_DOWN' | 'NOT_EXTERNAL' | 'EXECUTION_ENDED' | 'INVALID_REQUEST';

/** A refusal of the execution manager: the request cannot be done as asked, now or at all. */
export class ExecutionError extends Error {
  constructor(
    readonly code: ExecutionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExecutionError';
  }
}

/** The server is shutting down (drain() was called): no new executions. */
export class ShuttingDownError extends ExecutionError {
  constructor() {
    super('SHUTTING_DOWN', 'the server is shutting down and takes no new executions');
    this.name = 'ShuttingDownError';
  }
}

/** Reports, heartbeats and finish are for external executions only, not for a pipeline run. */
export class NotExternalError extends ExecutionError {
  constructor() {
    super('NOT_EXTERNAL', 'the execution is not external: gbcms runs it and reports for it');
    this.name = 'NotExternalError';
  }
}

/** The execution has ended: it takes no more reports, heartbeats or verdicts. */
export class ExecutionEndedError extends ExecutionError {
  constructor() {
    super('EXECUTION_ENDED', 'the execution has already ended');
    this.name = 'ExecutionEndedError';
  }
}

/** A start request the manager refuses as given (a heartbeat timeout out of range). */
export class InvalidRequestError extends ExecutionError {
  constructor(message: string) {
    super('INVALID_REQUEST', message);
    this.name = 'InvalidRequestError';
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
