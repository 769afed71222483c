// What a runner and the server say to each other over HTTP (routes/api/runner.ts on one side,
// agent/ on the other). Events are the engine's own RunEvents: a runner runs the same
// runPipeline as `gbcms run` and the server feeds what it hears to the same recorder as a run
// of its own, so pages and APIs cannot tell the difference.
import type { ApprovalDecision } from '../../engine/approval.ts';
import type { RunEvent } from '../../engine/events.ts';
import type { Plan } from '../../engine/plan.ts';
import type { RunStatus } from '../../engine/status.ts';

/** Every this often a runner heartbeats its leases. */
export const HEARTBEAT_MS = 2_500;
/**
 * A lease not heartbeat for this long is lost (swept every LEASE_SWEEP_MS): together under 10 s,
 * by default (`gbcms serve --runner-lease`). It is also the grace a runner cut off from the
 * server gives itself (the server tells it with each job): past it the server has given its
 * work up, so the runner stops it and removes its containers.
 */
export const LEASE_MS = 8_000;
/** The shortest lease a server accepts: three heartbeats, so one lost beat loses nothing. */
export const MIN_LEASE_MS = 3 * HEARTBEAT_MS;
export const LEASE_SWEEP_MS = 1_000;
/** How long a claim waits for work before answering with none. */
export const CLAIM_WAIT_MS = 25_000;
/** A runner counts as connected while it called within this long, or has a claim waiting. */
export const CONNECTED_MS = 10_000;
/** How long a runner's question at an approval gate waits for a decision before it asks again. */
export const GATE_WAIT_MS = 25_000;

export interface ClaimRequest {
  /** How many executions it takes now. */
  capacity: number;
  /** How many it runs at once (gbcms runner --capacity), for the runners' pages; default `capacity`. */
  slots?: number;
  /** Labels on top of those it was registered with (gbcms runner --labels). */
  labels?: string[];
  version: string;
  /** What it runs steps with: docker or local. */
  backend: string;
  /** Seconds to wait for work; default and most CLAIM_WAIT_MS. */
  wait_s?: number;
}

/** One claimed execution: everything the runner needs but its source, which it downloads. */
export interface ClaimedJob {
  lease: string;
  /** The lease's length: without an answer from the server for this long, the work is given up. */
  lease_ms?: number;
  execution: { id: string; number: number; project: string };
  /** Compiled on the server, for the commit the server fetched. */
  plan: Plan;
  /** The server's checkout the plan's paths point into; the runner moves them to its own. */
  workspace: string;
  /** Only the secrets the plan's steps name, as the trigger may have them. */
  secrets: Record<string, string>;
  secret_refusals: Record<string, string>;
  cache_scope: string;
  env: Record<string, string>;
}

export interface ClaimResponse {
  jobs: ClaimedJob[];
}

export interface HeartbeatRequest {
  /** Execution ids it runs. */
  executions: string[];
}

export interface HeartbeatResponse {
  /** Executions it no longer holds (the lease expired, the server restarted): stop them, tell nothing. */
  lost: string[];
  /** Executions someone terminated: stop them, then finish as usual. */
  cancel: string[];
}

export interface EventBatch {
  /** Index of the first event in the execution's stream of events (0-based). */
  from: number;
  events: RunEvent[];
}

export interface EventAck {
  /** How many events the server holds: the next batch starts there. */
  received: number;
}

export interface FinishRequest {
  status: RunStatus;
  reason: string | null;
  /** How many events it sent in all: the server refuses the end while some are missing. */
  events: number;
}

/** A runner at a gated step asks for the decision (a long poll), or says it stopped waiting. */
export interface GateRequest {
  /** The step, as the plan names it; the gate is the server's plan's, not the runner's word. */
  step: string;
  /** The runner stopped waiting (the gate timed out, the run was stopped): the gate closes. */
  cancel?: boolean;
}

/** Nobody decided within GATE_WAIT_MS (ask again), or the decision. */
export type GateAnswer = { decided: false } | ({ decided: true } & ApprovalDecision);
