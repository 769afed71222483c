// What the execution manager is given and what it tells its observers.

import type { Backend } from '../../engine/backends/types.ts';
import type { ReportLimits } from '../../engine/reports/types.ts';
import type { StepRecord } from '../../engine/run-record.ts';
import type { RemoteDispatch } from '../runners/remote-dispatch.ts';
import type { RunSecretSource } from '../secrets/vault.ts';
import type { Execution, Store } from '../store/index.ts';
import type { ExecutionLogger } from './logger.ts';

export interface ExecutionManagerOptions {
  store: Store;
  /**
   * This server among several sharing the database: executions it starts name it, and only its
   * own, unnamed or dead peers' are taken up. Without it the server is alone.
   */
  members?: Membership;
  backend: Backend;
  /** The store's data directory: executions/<id>/ and workspaces/<id>/ go below it. */
  dataDir: string;
  logger: ExecutionLogger;
  /** Between SIGTERM and SIGKILL when a step is stopped. */
  graceMs?: number;
  now?: () => Date;
  /**
   * Executions running at once over all projects; default: the number of cores. It is also the
   * limit over every server sharing the database that this server's takes check (cluster-slots.ts).
   */
  maxRunning?: number;
  /** How often an execution the database refused a slot asks again (ms); default 500. */
  clusterRetryMs?: number;
  /** Events of one execution kept in memory; older ones are read back from the log files. */
  maxBufferedEvents?: number;
  /** How long an ended execution's live stream stays, for clients that reconnect right after the end. */
  endedStreamMs?: number;
  /** How long reports wait to be stored together; default 250 ms. */
  reportFlushMs?: number;
  /** Smallest heartbeat timeout of an external execution, seconds; default 10 (tests go lower). */
  minHeartbeatTimeoutS?: number;
  /** How often silent external executions are looked for; default 5 s. */
  heartbeatSweepMs?: number;
  /** Where runs get the secrets their steps name; without it no step gets any. */
  secrets?: RunSecretSource;
  /** Bytes each project's caches may hold together (cache-sweep.ts); default 5 GiB. */
  cacheBudgetBytes?: number;
  /** Runners: plans they take (runs_on labels, or all with --dispatch runners) run there. */
  runners?: RemoteDispatch;
  /** The engine's report limits for external executions (tests lower them). */
  reportLimits?: Partial<ReportLimits>;
}

export interface StepEnded {
  execution: Execution;
  step: StepRecord;
}

export interface ManagerEvents {
  /** An execution was queued (pending), started running, or ended (a finished status). */
  status: [execution: Execution];
  /** A step reached a finished status; `duration_ms` is null for a step that never started. */
  'step-ended': [ended: StepEnded];
}

export interface RecoveryReport {
  /** Executions that were running: now `error`, their backend resources removed. */
  failed: string[];
  /** Pending executions queued again. */
  requeued: string[];
  /** Blocked executions, still waiting for approval. */
  blocked: string[];
}

/** Who this process is among the servers sharing the database (cluster/members.ts). */
export interface Membership {
  readonly name: string;
  isMine(server: string | null): boolean;
  isGone(server: string | null): boolean;
  readonly hasPeers: boolean;
}
