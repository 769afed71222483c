// One execution's work: the source into a fresh workspace, the pipeline file read and linted,
// the plan compiled for the trigger (a few at a time, read-limit.ts), its concurrency group's
// turn, then a slot, then the run on the backend. The group is known before the slot is waited
// for, so a newer execution can cancel an older one even when the project runs one at a time.
// The workspace is removed whatever happens; the run's own folder (logs, artifacts) stays.
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import type { ApprovalAsker } from '../../engine/approval.ts';
import type { Backend } from '../../engine/backends/types.ts';
import type { Lease } from '../../engine/concurrency-groups.ts';
import type { LoadedPlan } from '../../engine/load-plan.ts';
import { loadPlanInWorker } from '../../engine/load-plan-worker.ts';
import { defaultPipelinePath, PipelineReadError } from '../../engine/pipeline.ts';
import type { FileSchedule, Plan, Trigger } from '../../engine/plan.ts';
import { runPipeline } from '../../engine/run.ts';
import type { RunStatus } from '../../engine/status.ts';
import type { FetchedCommit } from '../git/fetch.ts';
import type { LiveStream, RemoteDispatch } from '../runners/remote-dispatch.ts';
import { type RunSecretSource, type RunSecrets, SecretUnreadableError } from '../secrets/vault.ts';
import type { Execution, Store } from '../store/index.ts';
import { executionCacheScope } from './cache-scope.ts';
import { SourceError } from './errors.ts';
import type { EventBody } from './event-shapes.ts';
import type { ExecutionTurns, JobSlot } from './group-turns.ts';
import type { ExecutionLogger } from './logger.ts';
import { type ShownDiagnostic, withSource, writeDiagnostics } from './pipeline-diagnostics.ts';
import type { RunRecorder } from './recorder.ts';
import { reuseFromOriginal } from './reuse-source.ts';
import { prepareSource } from './source.ts';
import type { StartExecutionRequest } from './types.ts';

/** Checkouts live here, one folder per execution, only while it runs. */
export const WORKSPACES_DIR = 'workspaces';
/** Remote pipeline includes, by hash, below the data folder. */
export const INCLUDE_CACHE_DIR = 'include-cache';

export interface ExecuteContext {
  execution: Execution;
  request: StartExecutionRequest;
  signal: AbortSignal;
  store: Store;
  backend: Backend;
  dataDir: string;
  /** Between SIGTERM and SIGKILL when a step is stopped. */
  graceMs?: number;
  logger: ExecutionLogger;
  /** Where the steps' secrets come from; without it no step gets any. */
  secrets?: RunSecretSource | undefined;
  publish(body: EventBody): void;
  /** The row changed (the commit is known now). */
  onChanged(execution: Execution): void;
  /** Decides the steps' approval gates (step-gates.ts). */
  approvals: ApprovalAsker;
  /** The run's observer, made once the plan is known. */
  recorder(plan: Plan): RunRecorder;
  /** Where the execution and its steps take their concurrency groups' turns (group-turns.ts). */
  turns: ExecutionTurns;
  /** Waits for leave to fetch and read the file: the release, or undefined once aborted. */
  read(signal: AbortSignal): Promise<(() => void) | undefined>;
  /** The execution's slot (project and global limits), taken once its group's turn has come. */
  slot: JobSlot;
  /** The schedules of a push to the default branch's file: the project's file schedules now. */
  fileSchedules(schedules: readonly FileSchedule[]): Promise<void>;
  /** Runners: a plan they take runs on one of them instead of on `backend`. */
  runners?: RemoteDispatch | undefined;
  /** The execution's live stream, for runners (several servers keep its latest id). */
  stream?: LiveStream;
}

export interface Outcome {
  status: RunStatus;
  reason: string | null;
}

const INTERNAL_REASON = 'internal error while running the execution; the server log has the details';

export async function execute(ctx: ExecuteContext): Promise<Outcome> {
  const { execution, dataDir, signal, logger } = ctx;
  const workspace = join(dataDir, WORKSPACES_DIR, execution.id);
  const runDir = join(dataDir, execution.logs_dir);
  try {
    // runPipeline puts the run in <runsDir>/<id>: that must be the execution's own folder.
    if (basename(runDir) !== execution.id)
      throw new Error(`logs_dir ${execution.logs_dir} does not end in the id`);
    await mkdir(runDir, { recursive: true });
    await rm(workspace, { recursive: true, force: true });
    const release = await ctx.read(signal);
    if (!release) return { status: 'killed', reason: null };
    let loaded: Awaited<ReturnType<typeof loadExecutionPlan>>;
    try {
      const fetched = await prepareSource(ctx.request, workspace, signal);
      if (signal.aborted) return { status: 'killed', reason: null };
      const trigger = fetched ? await recordCommit(ctx, fetched) : ctx.request.trigger;
      loaded = await loadExecutionPlan(workspace, trigger, ctx.request.project.name, dataDir);
    } finally {
      release();
    }
    if ('reason' in loaded) {
      // The reason says it all already: excerpts that cannot be kept are only a loss of comfort.
      if (loaded.diagnostics) {
        await writeDiagnostics(runDir, loaded.diagnostics).catch((error: unknown) => {
          logger.warn({ err: error, execution: execution.id }, 'could not keep the diagnostics');
        });
      }
      ctx.publish({ type: 'notice', message: loaded.reason });
      return { status: 'error', reason: loaded.reason };
    }
    if (signal.aborted) return { status: 'killed', reason: null };
    const { plan } = loaded;
    if (isDefaultBranchPush(ctx.request)) await ctx.fileSchedules(plan.schedules ?? []);
    let lease: Lease | undefined;
    if (plan.concurrency) {
      const entry = await ctx.turns.take(plan.concurrency);
      if ('cancelled' in entry) return { status: 'killed', reason: entry.cancelled };
      lease = entry.lease;
    }
    try {
      // Cancelled by a newer execution while it waits: the terminate names that one.
      if (!(await ctx.slot.take(signal))) return { status: 'killed', reason: null };
      return await runPlan(ctx, plan, workspace);
    } finally {
      lease?.release();
    }
  } catch (error) {
    if (signal.aborted) return { status: 'killed', reason: null };
    if (error instanceof SourceError) {
      logger.warn({ execution: execution.id, detail: error.detail }, error.message);
      return { status: 'error', reason: error.message };
    }
    logger.error({ err: error, execution: execution.id }, 'execution failed');
    return { status: 'error', reason: INTERNAL_REASON };
  } finally {
    await rm(workspace, { recursive: true, force: true }).catch((error: unknown) => {
      logger.warn({ err: error, execution: execution.id }, 'could not remove the workspace');
    });
  }
}

/** A push to the project's default branch: its file's schedules become the project's. */
function isDefaultBranchPush({ trigger, source, project }: StartExecutionRequest): boolean {
  return (
    source.kind === 'project' &&
    trigger.event === 'push' &&
    trigger.tag === undefined &&
    trigger.branch === project.default_branch
  );
}

/** The plan on the backend, once the execution's turn (if it has a group) has come. */
async function runPlan(ctx: ExecuteContext, plan: Plan, workspace: string): Promise<Outcome> {
  const { execution, dataDir, signal } = ctx;
  const runDir = join(dataDir, execution.logs_dir);
  const secrets = await runSecrets(ctx, plan);
  if ('reason' in secrets) return { status: 'error', reason: secrets.reason };
  if (signal.aborted) return { status: 'killed', reason: null };
  const env = {
    GBCMS_PROJECT: ctx.request.project.name,
    GBCMS_EXECUTION_NUMBER: String(execution.number),
  };
  const cacheScope = executionCacheScope(execution.project_id, ctx.request);
  if (ctx.runners?.takes(plan)) {
    return await ctx.runners.run({
      execution,
      projectName: ctx.request.project.name,
      plan,
      workspace,
      runDir,
      secrets: secrets.values,
      secretRefusals: secrets.refusals,
      cacheScope,
      env,
      signal,
      observe: ctx.recorder(plan).observe,
      approvals: ctx.approvals,
      ...(ctx.stream ? { stream: ctx.stream } : {}),
      // The row as stored (the commit is known by now), its reason saying what it waits for.
      onWaiting: () => {
        void ctx.store.executions.get(execution.id).then((row) => row && ctx.onChanged(row));
      },
    });
  }
  const { rerunOf, fromFailed } = ctx.request;
  const reuse =
    rerunOf !== undefined && fromFailed
      ? await reuseFromOriginal(ctx.store, dataDir, rerunOf, plan, ctx.publish)
      : undefined;
  const record = await runPipeline(plan, {
    backend: ctx.backend,
    runsDir: dirname(runDir),
    id: execution.id,
    signal,
    graceMs: ctx.graceMs,
    observer: ctx.recorder(plan).observe,
    // Passed as `gbcms run` passes them: the engine injects them and masks them in every log line.
    secrets: secrets.values,
    secretRefusals: secrets.refusals,
    cacheScope,
    approvals: ctx.approvals,
    stepGroups: ctx.turns.stepGroups,
    ...(reuse ? { reuse } : {}),
    env,
  });
  return { status: record.status, reason: record.reason };
}

/**
 * The secrets the plan's steps name, as the trigger may have them, recorded (names only) for
 * the audit trail before any step can use them.
 */
async function runSecrets(ctx: ExecuteContext, plan: Plan): Promise<RunSecrets | { reason: string }> {
  // Steps the trigger skips never run: their secrets are neither decrypted nor recorded.
  const names = plan.steps.filter((step) => step.skip === undefined).flatMap((step) => step.secrets);
  if (!ctx.secrets || names.length === 0) return { values: {}, refusals: {}, given: [] };
  try {
    const secrets = await ctx.secrets.forRun(ctx.execution.project_id, plan.trigger, names);
    await ctx.store.secrets.recordUse(ctx.execution.id, secrets.given);
    return secrets;
  } catch (error) {
    if (error instanceof SecretUnreadableError) return { reason: error.message };
    throw error;
  }
}

/**
 * The plan, or every error as `FILE:LINE:COL: error CODE: message`, one per line, and (for an
 * invalid file) each with the lines of the file around it.
 */
export async function loadExecutionPlan(
  workspace: string,
  trigger: Trigger,
  projectName: string,
  dataDir: string,
): Promise<{ plan: Plan } | { reason: string; diagnostics?: ShownDiagnostic[] }> {
  const path = defaultPipelinePath(workspace);
  const file = relative(workspace, path);
  let loaded: LoadedPlan;
  try {
    // The checkout's folder is named after the execution: the project's name is what lasts.
    // In a worker thread: a dense 1 MiB file lints for a second or more, which the event loop
    // (requests, webhooks, log streams) must not wait for.
    loaded = await loadPlanInWorker(
      {
        path,
        display: file,
        workspace,
        defaultName: projectName,
        // Remote includes are kept by hash beside the server's other data, shared by projects.
        remote: { cacheDir: join(dataDir, INCLUDE_CACHE_DIR) },
      },
      { trigger },
    );
  } catch (error) {
    if (error instanceof PipelineReadError) return { reason: error.message };
    throw error;
  }
  if (loaded.plan) return { plan: loaded.plan };
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length === 0) return { reason: `${file} is not valid` };
  const diagnostics = await withSource(errors, { path, display: file, workspace });
  return { reason: diagnostics.map((d) => d.text).join('\n'), diagnostics };
}

/**
 * The fetched commit completes the trigger and the execution row. Changed paths come from the
 * commit only for a push without its own list: for a manual, API or scheduled run nothing was
 * changed, and unknown paths let every `when.path` match.
 */
async function recordCommit(ctx: ExecuteContext, fetched: FetchedCommit): Promise<Trigger> {
  const trigger: Trigger = { ...ctx.request.trigger, commit: fetched.commit };
  if (!trigger.author && fetched.author) trigger.author = fetched.author;
  if (trigger.event === 'push' && trigger.changedPaths === undefined && fetched.changedPaths) {
    trigger.changedPaths = fetched.changedPaths;
  }
  const { execution, store } = ctx;
  const changes = {
    commit_sha: fetched.commit,
    author: trigger.author ?? null,
    message: execution.message ?? (fetched.message || null),
  };
  await store.executions.setCommit(execution.id, changes);
  ctx.onChanged({ ...execution, ...changes });
  return trigger;
}
