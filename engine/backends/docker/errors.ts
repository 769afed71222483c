// Reading dockerode's errors: the HTTP status and Docker's own message, which is what a user
// needs to see ("manifest unknown", "no such host"), not the modem's wrapper text.
import { BackendError } from '../types.ts';

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

export function statusCode(error: unknown): number | undefined {
  const code = field(error, 'statusCode');
  return typeof code === 'number' ? code : undefined;
}

/** Docker's message when it sent one, else the error's own; never with the daemon's host paths. */
export function dockerReason(error: unknown): string {
  const json = field(error, 'json');
  const message = field(json, 'message');
  if (typeof message === 'string' && message !== '') return withoutHostPaths(message.trim());
  if (error instanceof Error) return withoutHostPaths(error.message);
  return withoutHostPaths(String(error));
}

/**
 * The daemon names files by where they lie on the host (`lstat /var/lib/docker/overlay2/<id>/
 * merged/workspace/x: not a directory`): a step's log must not learn the host's layout, and
 * the user thinks in container paths. A container's root becomes `/`; a volume's data folder
 * `<volume NAME>`.
 */
export function withoutHostPaths(message: string): string {
  return message
    .replace(/\/\S*?\/overlay2\/[0-9a-f]+\/merged(?=\/)/g, '')
    .replace(/\/\S*?\/volumes\/([^/\s]+)\/_data/g, '<volume $1>');
}

export function isNotFound(error: unknown): boolean {
  return statusCode(error) === 404;
}

/** 404: already gone; 409: removal already in progress elsewhere. Both mean "someone did it". */
export function isGoneOrGoing(error: unknown): boolean {
  const code = statusCode(error);
  return code === 404 || (code === 409 && /already in progress/i.test(dockerReason(error)));
}

/** A BackendError saying what gbcms was doing, then Docker's reason. */
export function dockerFailure(code: string, doing: string, error: unknown): BackendError {
  return new BackendError(code, `${doing}: ${dockerReason(error)}`, { cause: error });
}

/** Errno codes of a socket that could not reach the daemon or lost it mid-request. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

/**
 * The daemon did not answer at all (it is stopping, restarting or gone), as opposed to an
 * answer that refused the request: no HTTP status, and a socket-level error.
 */
export function isConnectionLoss(error: unknown): boolean {
  if (statusCode(error) !== undefined) return false;
  const code = field(error, 'code');
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return error instanceof Error && /socket hang up|aborted/i.test(error.message);
}
