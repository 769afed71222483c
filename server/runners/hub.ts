// The server's side of its runners: executions handed to runners wait in the WorkQueue, a
// runner's claim takes them with a lease, and what the runner reports is fed to the run's
// observer through a RemoteRun. The execution manager knows none of this: execute.ts asks
// takes(plan) and then run() instead of running the plan on its own backend, so slots (the
// global limit, each project's max_concurrent) hold exactly as for local runs.

import { setTimeout as sleep } from 'node:timers/promises';
import { type Plan, planLabels } from '../../engine/plan.ts';
import { isFinished } from '../../engine/status.ts';
import type { Members } from '../cluster/members.ts';
import type { ExecutionLogger } from '../executions/logger.ts';
import type { Runner, Store } from '../store/index.ts';
import { PeerRelay } from './peer-relay.ts';
import { Presence } from './presence.ts';
import {
  CLAIM_WAIT_MS,
  type ClaimedJob,
  type ClaimRequest,
  type EventBatch,
  type FinishRequest,
  type GateAnswer,
  type GateRequest,
  type HeartbeatResponse,
  LEASE_MS,
} from './protocol.ts';
import type { DispatchMode, RemoteDispatch, RemoteRunRequest } from './remote-dispatch.ts';
import { RemoteGates } from './remote-gates.ts';
import { type RemoteOutcome, RemoteRun, type RemoteRunOptions } from './remote-run.ts';
import { cutLogsBack, type RunnerState, writeFollowedJob } from './runner-state.ts';
import { type RunnerView, runnerViews } from './runner-views.ts';
import { keepingAfterBatches, keepOutsideBatches } from './successor-keeping.ts';
import { type HandedLease, hasLabels, type WorkQueue } from './work-queue.ts';

/** How long a runner's call waits for the server to follow an execution it has just taken up. */
const ARRIVAL_WAIT_MS = 30_000;
const ARRIVAL_POLL_MS = 100;

interface Entry {
  request: RemoteRunRequest;
  remote: RemoteRun;
}

export interface RunnerHubOptions {
  store: Store;
  /** The data folder every server shares: executions' run folders are below it. */
  dataDir?: string;
  /** Several servers: work one claims for another's execution is passed on to it (cluster/). */
  members?: Members;
  queue: WorkQueue;
  /** The queue's lease length, told to runners with each job (default LEASE_MS). */
  leaseMs?: number;
  mode: DispatchMode;
  logger: ExecutionLogger;
}

export class RunnerHub implements RemoteDispatch {
  readonly presence = new Presence();
  readonly #options: RunnerHubOptions;
  /** Executions handed to runners, waiting or claimed, until they end. */
  readonly #entries = new Map<string, Entry>();
  readonly #closing = new AbortController();
  /** Work and heartbeats about executions other servers follow (several servers). */
  readonly #relay: PeerRelay;
  readonly #gates = new RemoteGates();

  constructor(options: RunnerHubOptions) {
    this.#options = options;
    this.#relay = new PeerRelay(options);
    options.queue.onExpired((lease) => {
      const entry = this.#entries.get(lease.executionId);
      if (!entry || entry.remote.leaseId !== lease.id) return;
      options.logger.warn({ execution: lease.executionId, runner: lease.runner }, 'runner lost');
      void entry.remote.lost(lease.runner);
    });
  }

  takes(plan: Plan): boolean {
    return this.#options.mode === 'runners' || planLabels(plan).length > 0;
  }

  async run(request: RemoteRunRequest): Promise<RemoteOutcome> {
    const { queue, store } = this.#options;
    const id = request.execution.id;
    const remote = new RemoteRun(id, request.runDir, request.observe, this.#persistence(request));
    this.#entries.set(id, { request, remote });
    const stopKeeping = this.#keepOutsideBatches(request, remote);
    const labels = planLabels(request.plan);
    const onAbort = () => {
      if (remote.runner === undefined) {
        void queue.remove(id).then(() => remote.cancelWaiting());
      } else {
        remote.cancelRequested = true;
      }
    };
    request.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await queue.enqueue({ executionId: id, labels });
      if (!this.presence.connected().some((runner) => hasLabels(runner.labels, labels))) {
        const reason =
          labels.length > 0
            ? `waiting for a runner with labels ${labels.join(', ')}`
            : 'waiting for a runner';
        if (remote.runner === undefined && (await store.runners.setPendingReason(id, reason))) {
          request.onWaiting(reason);
        }
      }
      if (request.signal.aborted) onAbort();
      return await remote.outcome;
    } finally {
      stopKeeping();
      this.#gates.closeAll(id);
      request.signal.removeEventListener('abort', onAbort);
      this.#entries.delete(id);
      if (remote.leaseId !== undefined) await queue.finish(remote.leaseId);
      else await queue.remove(id);
    }
  }

  /** Follows on a run a runner holds whose server died, from where it was left (runner-state.ts). */
  async resume(request: RemoteRunRequest, saved: RunnerState): Promise<RemoteOutcome> {
    const { queue } = this.#options;
    const id = request.execution.id;
    const logBytes: Record<string, number> = {};
    for (const step of saved.steps) logBytes[step.log] = saved.logBytes[step.log] ?? 0;
    await cutLogsBack(request.runDir, logBytes);
    const remote = new RemoteRun(id, request.runDir, request.observe, {
      ...this.#persistence(request),
      resume: { ...saved, logBytes },
    });
    remote.runner = saved.runner;
    remote.leaseId = saved.lease.id;
    // Followed here only once the lease is: a heartbeat meanwhile would hear it lost. Until
    // then the runner's heartbeats keep it alive from the kept state (peer-relay.ts) and its
    // other calls wait for the entry (#heldOrArriving).
    const adopted = await queue.adopt(saved.lease).catch((error: unknown) => {
      this.#options.logger.error({ err: error, execution: id }, 'could not adopt the lease');
      return false;
    });
    this.#entries.set(id, { request, remote });
    const stopKeeping = this.#keepOutsideBatches(request, remote);
    const onAbort = () => {
      remote.cancelRequested = true;
    };
    request.signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (!adopted) void remote.lost(saved.runner);
      else
        request.observe({
          type: 'notice',
          message: `server ${this.#options.members?.name ?? ''} follows the run on`,
        });
      if (request.signal.aborted) onAbort();
      return await remote.outcome;
    } finally {
      stopKeeping();
      this.#gates.closeAll(id);
      request.signal.removeEventListener('abort', onAbort);
      this.#entries.delete(id);
      await queue.finish(saved.lease.id);
    }
  }

  /** With several servers, where the run stands is kept for a successor (successor-keeping.ts). */
  #persistence(request: RemoteRunRequest): RemoteRunOptions {
    if (!this.#options.members) return {};
    return keepingAfterBatches(request, () => this.#entries.get(request.execution.id)?.remote);
  }

  #keepOutsideBatches(request: RemoteRunRequest, remote: RemoteRun): () => void {
    if (!this.#options.members) return () => undefined;
    return keepOutsideBatches(request, remote, this.#options.logger);
  }

  /**
   * A runner asks for work: up to its capacity, waiting up to CLAIM_WAIT_MS for the first.
   * `authorization` (its token) goes with the work it takes that another server manages.
   */
  async claim(
    runner: Runner,
    body: ClaimRequest,
    signal: AbortSignal,
    authorization = '',
  ): Promise<ClaimedJob[]> {
    const slots = body.slots ?? body.capacity;
    const presence = this.presence.claimed(runner, {
      labels: body.labels ?? [],
      version: body.version,
      backend: body.backend,
      capacity: slots,
    });
    await this.#options.store.runners.seen(runner.id, new Date().toISOString(), {
      version: body.version,
      capacity: slots,
    });
    const waitMs = Math.min(CLAIM_WAIT_MS, (body.wait_s ?? CLAIM_WAIT_MS / 1000) * 1000);
    const both = AbortSignal.any([signal, this.#closing.signal]);
    presence.claiming++;
    let leases: Awaited<ReturnType<WorkQueue['claim']>>;
    try {
      leases = await this.#options.queue.claim(presence, body.capacity, waitMs, both);
    } finally {
      presence.claiming--;
      this.presence.seen(runner.name);
    }
    // Revoked while its claim waited: the work goes back to the queue, untouched.
    const current = await this.#options.store.runners.byName(runner.name);
    if (current?.revoked_at !== null) {
      for (const lease of leases) {
        await this.#options.queue.finish(lease.id);
        const entry = this.#entries.get(lease.executionId);
        if (entry && !entry.remote.ended) {
          await this.#options.queue.enqueue({
            executionId: lease.executionId,
            labels: planLabels(entry.request.plan),
          });
        }
      }
      return [];
    }
    const jobs: ClaimedJob[] = [];
    for (const lease of leases) {
      const entry = this.#entries.get(lease.executionId);
      if (!entry) {
        const job = await this.#relay.passOn(lease, authorization);
        if (job) jobs.push(job);
        continue;
      }
      // Ended while it waited (terminated): the lease goes at once.
      if (entry.remote.ended) {
        await this.#options.queue.finish(lease.id);
        continue;
      }
      jobs.push(await this.#assign(entry, runner, lease.id));
    }
    return jobs;
  }

  /**
   * The managing server's side of a claim another server made for one of its executions: it
   * follows the lease from now on and answers with the job; undefined when it no longer waits.
   */
  async take(runner: Runner, id: string, lease: HandedLease): Promise<ClaimedJob | undefined> {
    const entry = this.#entries.get(id);
    if (!entry || entry.remote.ended || entry.remote.runner !== undefined || lease.executionId !== id) {
      return undefined;
    }
    if (!(await this.#options.queue.adopt({ ...lease, runner: runner.name }))) return undefined;
    return this.#assign(entry, runner, lease.id);
  }

  async #assign(entry: Entry, runner: Runner, leaseId: string): Promise<ClaimedJob> {
    entry.remote.runner = runner.name;
    entry.remote.leaseId = leaseId;
    const { plan, projectName, runDir } = entry.request;
    if (this.#options.members) await writeFollowedJob(runDir, { plan, projectName });
    await this.#options.store.runners.assignExecution(entry.request.execution.id, runner.name);
    const release = this.#options.members ? entry.request.stream?.hold() : undefined;
    try {
      entry.request.observe({ type: 'notice', message: `runner ${runner.name} took the execution` });
      // After any write of the state under way, never beside it.
      await entry.remote.keep();
    } finally {
      release?.();
    }
    return jobOf(leaseId, entry.request, this.#options.leaseMs ?? LEASE_MS);
  }

  async heartbeat(
    runner: Runner,
    executions: readonly string[],
    authorization = '',
  ): Promise<HeartbeatResponse> {
    this.presence.seen(runner.name);
    await this.#options.store.runners.seen(runner.id, new Date().toISOString());
    const answer: HeartbeatResponse = { lost: [], cancel: [] };
    const elsewhere: string[] = [];
    for (const id of executions) {
      const entry = this.#held(runner, id);
      if (!entry && this.#entries.has(id))
        answer.lost.push(id); // another runner's now, or ended
      else if (!entry) elsewhere.push(id);
      else if (!(await this.#options.queue.heartbeat(entry.remote.leaseId ?? ''))) answer.lost.push(id);
      else if (entry.remote.cancelRequested) answer.cancel.push(id);
    }
    if (elsewhere.length > 0) {
      const { lost, cancel } = await this.#relay.heartbeat(elsewhere, authorization);
      answer.lost.push(...lost);
      answer.cancel.push(...cancel);
    }
    return answer;
  }

  /** Keeps alive the runner leases of a server that missed beats (several servers). */
  keepLeasesOf(server: string): Promise<void> {
    return this.#relay.keepLeasesOf(server);
  }

  /** Events of an execution the runner holds; undefined when it holds none of that id. */
  async events(runner: Runner, id: string, batch: EventBatch): Promise<number | undefined> {
    const entry = await this.#heldOrArriving(runner, id);
    if (!entry) return undefined;
    this.presence.seen(runner.name);
    return entry.remote.accept(batch.from, batch.events);
  }

  /** The runner's end of it: false when events are missing, undefined when it holds none of that id. */
  async finish(runner: Runner, id: string, body: FinishRequest): Promise<boolean | undefined> {
    const entry = await this.#heldOrArriving(runner, id);
    if (!entry) return undefined;
    return entry.remote.finish({ status: body.status, reason: body.reason }, body.events);
  }

  /** The runner waits at a gated step (remote-gates.ts); undefined when it holds no such execution. */
  async gate(
    runner: Runner,
    id: string,
    body: GateRequest,
    hungUp: AbortSignal,
  ): Promise<GateAnswer | undefined> {
    const entry = await this.#heldOrArriving(runner, id);
    return entry && this.#gates.answer(entry.request, body, hungUp);
  }

  /** The server's checkout and the run's folder of an execution the runner holds. */
  async folders(runner: Runner, id: string): Promise<{ workspace: string; runDir: string } | undefined> {
    const entry = await this.#heldOrArriving(runner, id);
    return entry && { workspace: entry.request.workspace, runDir: entry.request.runDir };
  }

  /** Every registered runner, with what this server knows of it now. */
  async list(): Promise<RunnerView[]> {
    const running = new Map<string, string[]>();
    const add = (name: string, id: string) => running.set(name, [...(running.get(name) ?? []), id]);
    if (this.#options.members) {
      // Several servers: each follows its own, so the database says who runs what.
      const active = await this.#options.store.executions.listByStatus(['pending', 'running', 'blocked']);
      for (const row of active) if (row.runner !== null) add(row.runner, row.id);
    } else {
      for (const [id, entry] of this.#entries) {
        if (entry.remote.runner !== undefined) add(entry.remote.runner, id);
      }
    }
    return runnerViews(this.#options.store, this.presence, running);
  }

  /** Its token was revoked: it takes nothing more, and what it holds is lost at its next heartbeat. */
  revoked(name: string): void {
    this.presence.forget(name);
  }

  /** Answers waiting claims with nothing, so a shutdown does not wait for long polls. */
  async close(): Promise<void> {
    this.#closing.abort();
    await this.#options.queue.close();
  }

  #held(runner: Runner, id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    return entry?.remote.runner === runner.name && !entry.remote.ended ? entry : undefined;
  }

  /**
   * The entry, or the one this server is about to follow: an execution it has just taken up
   * (restarted, or taking over a dead server's) is its own in the database a moment before it
   * follows the run again, and the runner's calls of that moment must not hear it lost.
   */
  async #heldOrArriving(runner: Runner, id: string): Promise<Entry | undefined> {
    const until = Date.now() + ARRIVAL_WAIT_MS;
    for (;;) {
      const entry = this.#held(runner, id);
      if (entry || this.#entries.has(id)) return entry; // another runner's now, or ended
      const row = await this.#options.store.executions.get(id);
      if (!row || isFinished(row.status) || row.runner !== runner.name) return undefined;
      if (this.#options.members && !this.#options.members.isMine(row.server)) return undefined;
      if (Date.now() > until || this.#closing.signal.aborted) return undefined;
      await sleep(ARRIVAL_POLL_MS);
    }
  }
}

function jobOf(lease: string, request: RemoteRunRequest, leaseMs: number): ClaimedJob {
  return {
    lease,
    lease_ms: leaseMs,
    execution: { id: request.execution.id, number: request.execution.number, project: request.projectName },
    plan: request.plan,
    workspace: request.workspace,
    secrets: request.secrets,
    secret_refusals: request.secretRefusals,
    cache_scope: request.cacheScope,
    env: request.env,
  };
}
