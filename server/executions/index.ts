// The execution manager's public surface: import from here, not from the files behind it.
export { ShuttingDownError, SourceError } from './errors.ts';
export type { ExecutionLogger } from './logger.ts';
export type { ExecutionManagerOptions, ManagerEvents, RecoveryReport, StepEnded } from './manager.ts';
export { ExecutionManager, SHUT_DOWN, TERMINATED_BY_USER } from './manager.ts';
export { ENGINE_RESTARTED } from './recovery.ts';
export { REPLAY_FIRST_ID } from './stored-replay.ts';
export type * from './types.ts';
