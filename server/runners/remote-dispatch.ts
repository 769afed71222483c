// The seam between the execution manager and the runners (several machines): execute.ts asks
// a RemoteDispatch whether a plan goes to runners and runs it there, handing over what the run
// needs; the RunnerHub (hub.ts) is the one implementation.
import type { ApprovalAsker } from '../../engine/approval.ts';
import type { RunObserver } from '../../engine/events.ts';
import type { Plan } from '../../engine/plan.ts';
import type { ExecutionEvent } from '../executions/types.ts';
import type { Execution } from '../store/index.ts';
import type { RemoteOutcome } from './remote-run.ts';
import type { RunnerState } from './runner-state.ts';

/** `local`: the server runs what names no runs_on labels itself; `runners`: runners run everything. */
export type DispatchMode = 'local' | 'runners';

export interface RemoteRunRequest {
  execution: Execution;
  projectName: string;
  plan: Plan;
  /** The server's checkout: the runner downloads it as a tar. */
  workspace: string;
  /** The execution's own folder: logs and artifacts are written there as a local run writes them. */
  runDir: string;
  secrets: Record<string, string>;
  secretRefusals: Record<string, string>;
  cacheScope: string;
  env: Record<string, string>;
  signal: AbortSignal;
  observe: RunObserver;
  /** No connected runner can take it (yet): why it still waits, for its page. */
  onWaiting(reason: string): void;
  /** Decides its gated steps when the runner asks (remote-gates.ts); none: they are declined. */
  approvals?: ApprovalAsker;
  /** The execution's live stream: its latest id is kept for a successor, before pages see it. */
  stream?: LiveStream;
}

/** What the hub needs of an execution's live stream (an EventStream). */
export interface LiveStream {
  readonly lastId: number;
  hold(): () => void;
  /** Up to `count` of the latest events, oldest first. */
  recent(count: number): ExecutionEvent[];
  /** While set, no event reaches pages before it is kept: by `keep`, or as markKept says. */
  keepEachWith(keep: (() => Promise<void>) | undefined): void;
  markKept(id: number): void;
}

/** The one thing execute.ts needs of the runners: whether a plan goes to them, and running it there. */
export interface RemoteDispatch {
  takes(plan: Plan): boolean;
  run(request: RemoteRunRequest): Promise<RemoteOutcome>;
  /** Follows on a run a runner holds, left by a server that died (several servers). */
  resume?(request: RemoteRunRequest, saved: RunnerState): Promise<RemoteOutcome>;
}
