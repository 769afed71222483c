// The execution manager's public surface: import from here, not from the files behind it.
export type { ExecutionErrorCode } from './errors.ts';
export {
  ExecutionEndedError,
  ExecutionError,
  InvalidRequestError,
  NotExternalError,
  ShuttingDownError,
  SourceError,
} from './errors.ts';
export {
  DEFAULT_HEARTBEAT_TIMEOUT_S,
  MAX_HEARTBEAT_TIMEOUT_S,
  MIN_HEARTBEAT_TIMEOUT_S,
  REPORTER_SILENT,
} from './external.ts';
export type { ExecutionLogger } from './logger.ts';
export type { ExecutionManagerOptions, ManagerEvents, RecoveryReport, StepEnded } from './manager.ts';
export { ExecutionManager, SHUT_DOWN, TERMINATED_BY_USER } from './manager.ts';
export { ENGINE_RESTARTED } from './recovery.ts';
export { REPLAY_FIRST_ID } from './stored-replay.ts';
export type * from './types.ts';
export { EXTERNAL_STEP } from './types.ts';
