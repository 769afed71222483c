// The contract between the HTTP layer and the execution manager: routes start, watch and
// terminate executions through this, never by touching the engine or the store's rows directly.
import type { Trigger } from '../../engine/plan.ts';
import type { Report } from '../../engine/reports/types.ts';
import type { Execution, Project } from '../store/index.ts';

/** Where an execution's source comes from. */
export type ExecutionSource =
  /** Fetch this commit/ref with real git (URL policy checked by the manager). */
  | { kind: 'git'; repo: string; commit?: string; ref?: string }
  /** The project's registered source as it is: its `repo` (URL or admin-registered path) at the trigger's ref. */
  | { kind: 'project' };

export interface StartExecutionRequest {
  project: Project;
  trigger: Trigger;
  source: ExecutionSource;
  /** User id of who asked, for the record; undefined for webhooks. */
  requestedBy?: string;
  message?: string;
  rerunOf?: string;
}

/**
 * One event of an execution's live stream. `id` increases by one per event within an
 * execution, so a client reconnecting with Last-Event-ID gets exactly what it missed.
 */
export type ExecutionEvent = { id: number } & (
  | { type: 'status'; execution: Execution }
  | {
      type: 'step';
      step: {
        name: string;
        status: string;
        exit_code: number | null;
        reason: string | null;
        started_at: string | null;
        ended_at: string | null;
        duration_ms: number | null;
        attempts: number;
      };
    }
  | {
      type: 'log';
      step: string;
      line: {
        seq: number;
        time: string;
        stream: 'stdout' | 'stderr' | 'system';
        text: string;
        partial?: true;
      };
    }
  | { type: 'notice'; step?: string; message: string }
  | { type: 'artifact'; artifact: { step: string; path: string; size: number; sha256: string } }
  /** A metric, progress, annotation or test-results report of a step (or of an external reporter). */
  | { type: 'report'; step: string; report: Report }
  /** The execution has ended and no more events will come. */
  | { type: 'end'; execution: Execution }
);

export interface TerminateResult {
  execution_id: string;
  terminated_at: string;
}

export interface ManagerStats {
  /** Executions waiting for a slot. */
  pending: number;
  running: number;
  /** Step containers the engine has running now. */
  runningSteps: number;
}

export interface ExecutionControl {
  /** Creates the execution (status pending) and queues it; resolves once it is recorded, not when it ends. */
  start(request: StartExecutionRequest): Promise<Execution>;
  /**
   * Stops a pending or running execution: its containers are removed before this resolves.
   * Resolves undefined when the execution already ended (routes answer 409).
   */
  terminate(executionId: string): Promise<TerminateResult | undefined>;
  /**
   * Live events. Replays what the client has not seen (all of it without `afterId`), then
   * follows until the `end` event. Works for ended executions too (replay, then `end`).
   * Returns an unsubscribe function.
   */
  subscribe(
    executionId: string,
    listener: (event: ExecutionEvent) => void,
    afterId?: number,
  ): Promise<() => void>;
  stats(): ManagerStats;
}
