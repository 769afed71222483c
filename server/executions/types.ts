// The contract between the HTTP layer and the execution manager: routes start, watch and
// terminate executions through this, never by touching the engine or the store's rows directly.
import type { Trigger } from '../../engine/plan.ts';
import type { Report } from '../../engine/reports/types.ts';
import type { StepRecord } from '../../engine/run-record.ts';
import type { RunStatus } from '../../engine/status.ts';
import type { Execution, ForgeTarget, Project } from '../store/index.ts';
import type { OpenGate, StepDecision } from './step-gates.ts';

export type { StepDecision } from './step-gates.ts';

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
  /** With rerunOf: run only the original's failed, killed, error and skipped steps again (engine/rerun/). */
  fromFailed?: boolean;
  /** The forge and repository whose webhook started it: its statuses are reported there. */
  forge?: ForgeTarget;
  /**
   * Created `blocked` instead of queued: it takes no slot and starts nothing until approve()
   * (a pull request from a fork, when its project asks for approval).
   */
  awaitApproval?: boolean;
}

/**
 * One event of an execution's live stream. `id` increases by one per event within an
 * execution, so a client reconnecting with Last-Event-ID gets exactly what it missed.
 */
export type ExecutionEvent = { id: number } & (
  | { type: 'status'; execution: Execution }
  /** A step's record as it changed, without its log file (the log comes as `log` events). */
  | { type: 'step'; step: Omit<StepRecord, 'log'> }
  | {
      type: 'log';
      step: string;
      line: {
        seq: number;
        time: string;
        stream: 'stdout' | 'stderr' | 'system';
        text: string;
        partial?: true;
        /** A valid `::gbcms` report command: its report follows as a `report` event; viewers may dim it. */
        report?: true;
      };
    }
  | { type: 'notice'; step?: string; message: string }
  | { type: 'artifact'; artifact: { step: string; path: string; size: number; sha256: string } }
  /**
   * A metric, progress, annotation or test-results report of a step (or of an external
   * reporter, whose step is EXTERNAL_STEP), once stored: `seq` is its number in
   * GET /api/executions/:id/reports, so a page can load the history there and follow here.
   */
  | { type: 'report'; step: string; seq: number; report: Report }
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
  /**
   * Creates the execution (status pending) and queues it; resolves once it is recorded, not
   * when it ends. Throws ShuttingDownError while the server drains.
   */
  start(request: StartExecutionRequest): Promise<Execution>;
  /**
   * Stops a blocked, pending or running execution (`reason` default: terminated by user): its
   * containers are removed before this resolves. Resolves undefined when the execution already
   * ended (routes answer 409).
   */
  terminate(executionId: string, reason?: string): Promise<TerminateResult | undefined>;
  /**
   * A `blocked` execution is approved by `username`: recorded, then queued like any other.
   * Resolves undefined when it is not blocked (approved or ended already: routes answer 409);
   * throws NotFoundError for an unknown execution.
   */
  approve(executionId: string, username: string): Promise<Execution | undefined>;
  /** The approval gate a step of a running execution waits at; undefined when it waits at none. */
  stepGate(executionId: string, step: string): OpenGate | undefined;
  /**
   * Decides the gate `step` waits at: recorded (who, what, when), then the step runs or is
   * skipped. False when it waits at no gate (any more): routes answer 409.
   */
  decideStep(executionId: string, step: string, decision: StepDecision): Promise<boolean>;
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
  /** External executions (code gbcms does not start reports to it); absent when not offered. */
  readonly external?: ExternalControl;
}

/** The step name an external execution's reports are stored and streamed under. */
export const EXTERNAL_STEP = 'external';

export interface StartExternalRequest {
  project: Project;
  /** Session name: the session is created on first use. */
  session?: string;
  name?: string;
  /** Seconds without a heartbeat or reports before the execution ends `error`. */
  heartbeatTimeoutS?: number;
  /** User id of who asked, for the record. */
  requestedBy?: string;
}

export interface RefusedReport {
  /** Position in what was sent (the array, or 0 for a single object). */
  index: number;
  error: string;
}

/** What became of reports an external reporter sent. */
export interface ReportIntake {
  /** Valid reports, including those the limits left out (downsampled points, names or annotations past a cap). */
  accepted: number;
  refused: number;
  /** Why items were refused, the first MAX_REFUSALS_LISTED of them. */
  errors: RefusedReport[];
  /** Limits these reports reached (a metric thinned out, a cap on names or annotations), each said once per execution. */
  notices: string[];
}

export interface ExternalControl {
  /** Smallest heartbeat timeout accepted, in seconds: 10, unless a test lowered it. */
  readonly minHeartbeatTimeoutS: number;
  /**
   * Creates the execution, running, and its session when it is new. Throws ShuttingDownError
   * while the server drains, InvalidRequestError for a heartbeat timeout out of range.
   */
  start(request: StartExternalRequest): Promise<Execution>;
  /**
   * Validates and stores `items` (report objects as JSON gave them). Each valid item counts as
   * a sign of life. Throws NotExternalError or ExecutionEndedError (errors.ts) when the
   * execution is not external or has ended.
   */
  report(executionId: string, items: readonly unknown[]): Promise<ReportIntake>;
  /** A sign of life. Throws like report(). */
  heartbeat(executionId: string): Promise<Execution>;
  /** Ends the execution with the reporter's verdict; `message` becomes the reason. Throws like report(). */
  finish(executionId: string, status: ExternalVerdict, message?: string): Promise<Execution>;
  /**
   * Calls `onEnd` once when the execution ends (at once when it already has). Returns the
   * function that stops listening. For report sockets, so they close when the execution ends.
   */
  onEnd(executionId: string, onEnd: (execution: Execution) => void): () => void;
}

export type ExternalVerdict = Extract<RunStatus, 'success' | 'failure'>;
