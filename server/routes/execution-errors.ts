// What the execution manager's refusals (server/executions/errors.ts) answer over HTTP. One
// table, so every route that starts, feeds or ends executions answers them alike; a refusal
// left unmapped would reach the error handler as a 500.
import { errors, type HttpError } from '../errors.ts';
import { ExecutionError, type ExecutionErrorCode } from '../executions/index.ts';

const ANSWERS: Record<ExecutionErrorCode, (message: string) => HttpError> = {
  SHUTTING_DOWN: errors.unavailable,
  NOT_EXTERNAL: errors.notExternal,
  EXECUTION_ENDED: errors.executionEnded,
  INVALID_REQUEST: errors.validation,
};

/** The HTTP error for a refusal of the execution manager; any other error as it is. */
export function executionHttpError(error: unknown): unknown {
  return error instanceof ExecutionError ? ANSWERS[error.code](error.message) : error;
}

/** Awaits the manager's `work`, its refusals turned into HTTP errors. */
export async function mapExecutionErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw executionHttpError(error);
  }
}
