// Coded HTTP errors, fastify's FST_ERR_* way: each code is a constant that carries its status,
// so a route throws `errors.executionEnded()` and the one error handler writes the answer.
// Every error reaches clients as `{error: CODE, message}`; 5xx details stay in the log.

/** A 503's message reaches the client as written (other 5xx are told generically): write it for them. */
export class HttpError extends Error {
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

type Factory = (message?: string) => HttpError;

function coded(code: string, statusCode: number, defaultMessage: string): Factory {
  return (message = defaultMessage) => new HttpError(code, statusCode, message);
}

export const errors = {
  validation: coded('GBCMS_ERR_VALIDATION', 400, 'the request is invalid'),
  invalidJson: coded('GBCMS_ERR_INVALID_JSON', 400, 'the body is not valid JSON'),
  invalidCursor: coded('GBCMS_ERR_INVALID_CURSOR', 400, "'cursor' is not a cursor this server gave out"),
  invalidRepo: coded('GBCMS_ERR_INVALID_REPO', 400, 'the repository source is refused'),
  invalidRef: coded('GBCMS_ERR_INVALID_REF', 400, 'the ref is not a valid branch or tag name'),
  invalidPath: coded('GBCMS_ERR_INVALID_PATH', 400, 'the path is not allowed'),
  invalidSchedule: coded('GBCMS_ERR_INVALID_SCHEDULE', 400, 'the schedule is invalid'),
  badWebhook: coded('GBCMS_ERR_BAD_WEBHOOK', 400, 'the webhook delivery is missing a required header'),
  unauthorized: coded(
    'GBCMS_ERR_UNAUTHORIZED',
    401,
    'a valid API token is required (Authorization: Bearer <token>)',
  ),
  badSignature: coded('GBCMS_ERR_BAD_SIGNATURE', 401, 'the webhook signature is missing or does not match'),
  forbidden: coded('GBCMS_ERR_FORBIDDEN', 403, 'you may not do this'),
  banned: coded('GBCMS_ERR_BANNED', 403, 'too many requests: this address is blocked for a while'),
  notFound: coded('GBCMS_ERR_NOT_FOUND', 404, 'not found'),
  projectNotFound: coded('GBCMS_ERR_PROJECT_NOT_FOUND', 404, 'project not found'),
  executionNotFound: coded('GBCMS_ERR_EXECUTION_NOT_FOUND', 404, 'execution not found'),
  stepNotFound: coded('GBCMS_ERR_STEP_NOT_FOUND', 404, 'step not found'),
  artifactNotFound: coded('GBCMS_ERR_ARTIFACT_NOT_FOUND', 404, 'artifact not found'),
  userNotFound: coded('GBCMS_ERR_USER_NOT_FOUND', 404, 'user not found'),
  tokenNotFound: coded('GBCMS_ERR_TOKEN_NOT_FOUND', 404, 'token not found'),
  secretNotFound: coded('GBCMS_ERR_SECRET_NOT_FOUND', 404, 'secret not found'),
  invalidSecret: coded('GBCMS_ERR_INVALID_SECRET', 400, 'the secret is invalid'),
  secretsUnavailable: coded('GBCMS_ERR_SECRETS_UNAVAILABLE', 503, 'this server has no secret key'),
  scheduleNotFound: coded('GBCMS_ERR_SCHEDULE_NOT_FOUND', 404, 'schedule not found'),
  memberNotFound: coded('GBCMS_ERR_MEMBER_NOT_FOUND', 404, 'the user is not a member of this project'),
  projectExists: coded('GBCMS_ERR_PROJECT_EXISTS', 409, 'a project with that name exists'),
  userExists: coded('GBCMS_ERR_USER_EXISTS', 409, 'a user with that username exists'),
  tokenAmbiguous: coded('GBCMS_ERR_TOKEN_AMBIGUOUS', 409, 'that prefix matches more than one token'),
  runnerNotFound: coded('GBCMS_ERR_RUNNER_NOT_FOUND', 404, 'runner not found'),
  runnerExists: coded('GBCMS_ERR_RUNNER_EXISTS', 409, 'a runner with that name exists'),
  leaseNotHeld: coded('GBCMS_ERR_LEASE_NOT_HELD', 404, 'this runner holds no lease on that execution'),
  eventsMissing: coded('GBCMS_ERR_EVENTS_MISSING', 409, 'events are missing: send from where the server is'),
  executionEnded: coded('GBCMS_ERR_EXECUTION_ENDED', 409, 'the execution has already ended'),
  nothingToRerun: coded(
    'GBCMS_ERR_NOTHING_TO_RERUN',
    409,
    'the execution has no failed, killed, error or skipped steps to re-run',
  ),
  notBlocked: coded('GBCMS_ERR_NOT_BLOCKED', 409, 'the execution is not waiting for approval'),
  stepNotBlocked: coded('GBCMS_ERR_STEP_NOT_BLOCKED', 409, 'the step is not waiting for approval'),
  notExternal: coded(
    'GBCMS_ERR_NOT_EXTERNAL',
    409,
    'the execution is not external: gbcms runs it and reports for it',
  ),
  externalRerun: coded(
    'GBCMS_ERR_EXTERNAL_RERUN',
    409,
    'the execution is external: gbcms did not run it and has no pipeline to run again',
  ),
  bodyTooLarge: coded('GBCMS_ERR_BODY_TOO_LARGE', 413, 'the body is larger than this server accepts'),
  unsupportedMediaType: coded('GBCMS_ERR_UNSUPPORTED_MEDIA_TYPE', 415, 'unsupported content type'),
  rateLimited: coded('GBCMS_ERR_RATE_LIMITED', 429, 'too many requests'),
  internal: coded('GBCMS_ERR_INTERNAL', 500, 'internal server error'),
  unavailable: coded('GBCMS_ERR_UNAVAILABLE', 503, 'the server is shutting down'),
  peerUnavailable: coded(
    'GBCMS_ERR_PEER_UNAVAILABLE',
    503,
    'the server managing this execution did not answer; retry',
  ),
} as const;

/** Fastify's own client-error codes, as gbcms codes (the rest of fastify's 4xx keep their message). */
const FASTIFY_CODES: Record<string, Factory> = {
  FST_ERR_CTP_BODY_TOO_LARGE: errors.bodyTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: errors.unsupportedMediaType,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: errors.validation,
  FST_ERR_CTP_EMPTY_JSON_BODY: errors.invalidJson,
  FST_ERR_CTP_INVALID_JSON_BODY: errors.invalidJson,
  FST_ERR_VALIDATION: errors.validation,
};

export interface ErrorBody {
  error: string;
  message: string;
}

/**
 * What the client is told about `error`: its code and message for a client error, a generic
 * answer for anything else (the caller logs the details).
 */
export function describeError(error: unknown): { statusCode: number; body: ErrorBody } {
  if (error instanceof HttpError) {
    // A 503 of ours says what is unavailable and that a retry may help; other 5xx say nothing.
    return error.statusCode >= 500 && error.statusCode !== 503
      ? internal(error.statusCode)
      : { statusCode: error.statusCode, body: { error: error.code, message: error.message } };
  }
  const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const status = typeof fields.statusCode === 'number' ? fields.statusCode : 500;
  if (status >= 500 && status <= 599) return internal(status);
  if (status < 400 || status > 599) return internal(500);
  const message = typeof fields.message === 'string' ? fields.message : 'bad request';
  const code = typeof fields.code === 'string' ? fields.code : '';
  if (syntaxErrorFromJson(error)) return clientError(errors.invalidJson());
  const mapped = FASTIFY_CODES[code];
  if (mapped) return clientError(mapped(message));
  if ('validation' in fields) return clientError(errors.validation(message));
  return {
    statusCode: status,
    body: { error: code.startsWith('GBCMS_ERR_') ? code : 'GBCMS_ERR_BAD_REQUEST', message },
  };
}

function clientError(error: HttpError): { statusCode: number; body: ErrorBody } {
  return { statusCode: error.statusCode, body: { error: error.code, message: error.message } };
}

function internal(statusCode: number): { statusCode: number; body: ErrorBody } {
  const error = statusCode === 503 ? errors.unavailable() : errors.internal();
  return { statusCode, body: { error: error.code, message: error.message } };
}

/** Fastify's JSON parser hands on JSON.parse's SyntaxError with status 400. */
function syntaxErrorFromJson(error: unknown): boolean {
  return error instanceof SyntaxError && (error as SyntaxError & { statusCode?: number }).statusCode === 400;
}
