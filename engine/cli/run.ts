// `gbcms run`: validate, plan and run a pipeline here, showing progress as it goes.
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type BackendChoice, selectBackend } from '../backends/registry.ts';
import { type Backend, BackendError } from '../backends/types.ts';
import { repositoryCacheScope } from '../cache.ts';
import { formatDiagnostic } from '../diagnostics.ts';
import { type LoadedPlan, loadPlan } from '../load-plan.ts';
import { defaultPipelinePath, PipelineReadError } from '../pipeline.ts';
import type { Plan } from '../plan.ts';
import { UnknownStepError } from '../plan-select.ts';
import { claimRun, recoverCrashedRuns, releaseRun, removeLeftoverRuns } from '../recovery.ts';
import { runPipeline } from '../run.ts';
import { runFileWriter } from '../run-file.ts';
import { newRunId } from '../run-id.ts';
import type { RunRecord } from '../run-record.ts';
import { APPROVE_ALL, cliApprovals, terminalQuestion } from './approvals.ts';
import { commandArgs } from './args.ts';
import { count } from './count.ts';
import { FROM_FAILED_HELP, FromFailedError, readEarlierRun, reuseOf, takeFromFailed } from './from-failed.ts';
import { ensureGbcmsDir } from './gbcms-dir.ts';
import { INCLUDE_HELP, INCLUDE_OPTIONS, remoteFromOptions } from './include-options.ts';
import type { CliIO } from './io.ts';
import { painter, runSummary } from './reporters/format.ts';
import { liveReporter } from './reporters/live.ts';
import { plainReporter } from './reporters/plain.ts';
import type { Reporter } from './reporters/reporter.ts';
import { TRIGGER_OPTIONS, TriggerOptionError, triggerFromOptions } from './trigger.ts';

const HELP = `usage: gbcms run [DIR] [options]

Runs the pipeline in DIR (default: the current directory) and keeps what it produced in
DIR/.gbcms/runs/<id>/ (run.json, logs/, artifacts/, reports/). Steps report metrics, progress
and annotations by printing '::gbcms ...' lines or appending JSON lines to $GBCMS_REPORTS.

options:
  --file F                pipeline file (default: DIR/.gbcms.yml)
  --backend B             docker, local or auto (default: auto: docker when an engine answers)
  --step NAME             run only this step and what it depends on (repeatable)
  --event E               push, pull_request, tag, manual (default), api, cron
  --branch B, --tag T     trigger ref (default: the checkout's branch)
  --commit SHA            trigger commit (default: the checkout's HEAD)
  --changed PATH          a changed file, for when.path (repeatable; default: unknown, matches)
  --concurrency N         steps running at once (default: number of cores)
  --approve NAME          approve the approval gate of step NAME ahead of time (repeatable;
                          'all': every gate); other gates ask y/N in a terminal, and are
                          skipped without one
  --json                  print one JSON summary on stdout, reports included (progress goes to stderr)
${FROM_FAILED_HELP}${INCLUDE_HELP}  -h, --help              this text

exit: 0 success, 1 failure, 2 error or invalid file, 130 terminated
`;

const RUN_OPTIONS = {
  ...TRIGGER_OPTIONS,
  ...INCLUDE_OPTIONS,
  file: { type: 'string', short: 'f' },
  backend: { type: 'string' },
  step: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  approve: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

const EXIT = { success: 0, failure: 1, error: 2, killed: 130 } as const;

export async function runCommand(argvGiven: string[], io: CliIO): Promise<number> {
  const { argv, fromFailed } = takeFromFailed(argvGiven);
  const args = commandArgs('run', argv, RUN_OPTIONS, HELP, io);
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  if (positionals.length > 1) {
    io.stderr.write(`gbcms run: expected at most one directory, got ${positionals.length}\n`);
    return 2;
  }
  const backendChoice = (values.backend ?? 'auto') as BackendChoice;
  if (!['auto', 'docker', 'local'].includes(backendChoice)) {
    io.stderr.write(`gbcms run: --backend must be docker, local or auto, not '${values.backend}'\n`);
    return 2;
  }
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
    io.stderr.write(`gbcms run: --concurrency must be a positive whole number\n`);
    return 2;
  }

  const dir = resolve(io.cwd, positionals[0] ?? '.');
  const file = values.file ? resolve(io.cwd, values.file) : defaultPipelinePath(dir);
  const workspace = values.file && !positionals[0] ? dirname(file) : dir;
  const display =
    values.file ??
    (positionals[0] ? join(positionals[0], file.slice(dir.length + 1)) : file.slice(dir.length + 1));

  // Progress goes to stderr with --json so stdout stays one JSON document.
  const progress = values.json ? io.stderr : io.stdout;
  const tty = !values.json && io.stdout.isTTY === true && io.env.CI !== 'true';
  const paint = painter(tty && io.env.NO_COLOR === undefined);

  try {
    if (!(await stat(workspace)).isDirectory()) throw new Error('not a directory');
  } catch {
    io.stderr.write(`gbcms run: ${positionals[0] ?? workspace}: no such directory\n`);
    return 2;
  }

  let loaded: LoadedPlan;
  try {
    loaded = await loadPlan(
      { path: file, display, workspace, remote: remoteFromOptions(values, io.env) },
      { trigger: () => triggerFromOptions(values, workspace), steps: values.step },
    );
  } catch (error) {
    if (
      error instanceof PipelineReadError ||
      error instanceof TriggerOptionError ||
      error instanceof UnknownStepError
    ) {
      io.stderr.write(`gbcms run: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  for (const diagnostic of loaded.diagnostics) io.stderr.write(`${formatDiagnostic(diagnostic)}\n`);
  const { plan } = loaded;
  if (!plan) {
    io.stderr.write(`gbcms run: ${display} is not valid; nothing was run\n`);
    return 2;
  }

  const unknownApproval = unknownApprovals(values.approve ?? [], plan);
  if (unknownApproval !== undefined) {
    io.stderr.write(`gbcms run: ${unknownApproval}\n`);
    return 2;
  }

  let backend: Awaited<ReturnType<typeof selectBackend>>;
  try {
    backend = await selectBackend(backendChoice, (message) =>
      progress.write(`${paint('yellow', `note: ${message}`)}\n`),
    );
  } catch (error) {
    if (error instanceof BackendError) {
      io.stderr.write(`gbcms run: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const secrets: Record<string, string> = {};
  for (const step of plan.steps) {
    for (const name of step.secrets) {
      const value = io.env[name];
      if (value !== undefined) secrets[name] = value;
    }
  }

  const controller = new AbortController();
  let interrupts = 0;
  // Set once the run starts: an interrupt then speaks through it, so the live view is not torn.
  let reporter: Reporter | undefined;
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts === 1) {
      const message = paint(
        'yellow',
        'terminating: stopping steps and removing containers (Ctrl-C again to quit now)',
      );
      if (reporter) reporter.notice(message);
      else progress.write(`\n${message}\n`);
      controller.abort();
    } else {
      // Quitting now: the live view is erased first, so no spinner stays in the scrollback.
      reporter?.close();
      process.exit(130);
    }
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);

  const runsDir = join(await ensureGbcmsDir(workspace), 'runs');
  for (const crashed of await recoverCrashedRuns(runsDir, backend)) {
    progress.write(
      `${paint('yellow', `note: run ${crashed.id} was left running by a gbcms process that ended (pid ${crashed.pid}): marked error, its leftovers removed`)}\n`,
    );
  }
  await removeLeftovers(runsDir, backend, (message) =>
    progress.write(`${paint('yellow', `note: ${message}`)}\n`),
  );
  // After the recovery: a run its crashed process left `running` is now an ended one.
  let reuse: Awaited<ReturnType<typeof reuseOf>> | undefined;
  if (fromFailed) {
    try {
      reuse = await reuseOf(await readEarlierRun(runsDir, fromFailed.runId), plan);
    } catch (error) {
      if (!(error instanceof FromFailedError)) throw error;
      io.stderr.write(`gbcms run: ${error.message}\n`);
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onInterrupt);
      return 2;
    }
  }
  if (plan.concurrency) {
    // A local run is one person's, in a copy of their checkout: queueing it behind (or letting
    // it cancel) another terminal's run would surprise more than it protects.
    progress.write(
      `${paint('gray', `note: concurrency group ${plan.concurrency.group} applies on the server; gbcms run starts at once (step groups still take turns)`)}\n`,
    );
  }
  const allowed = new Set(plan.steps.filter((step) => step.allowFailure).map((step) => step.name));
  const runReporter = tty
    ? liveReporter(io.stdout, paint, allowed)
    : plainReporter(progress, paint, { allowed });
  reporter = runReporter;
  const { stdin } = io;
  const ask =
    !values.json && stdin?.isTTY === true && io.stdout.isTTY === true
      ? terminalQuestion(stdin, io.stdout)
      : undefined;
  progress.write(
    `${paint('bold', `gbcms run ${plan.name}`)} ${paint('gray', `(${backend.name}, ${count(plan.steps.length, 'step')}, ${plan.trigger.event}${plan.trigger.branch ? ` on ${plan.trigger.branch}` : ''})`)}\n`,
  );
  if (reuse) progress.write(`${reusedNote(reuse)}\n`);
  const id = newRunId();
  const runDir = join(runsDir, id);
  await mkdir(runDir, { recursive: true });
  // owner.json says which process runs it, so a later `gbcms run` can tell a crash from a run.
  await claimRun(runDir);
  const runFile = runFileWriter(runDir);
  let record: RunRecord;
  try {
    record = await runPipeline(plan, {
      backend,
      runsDir,
      id,
      secrets,
      concurrency,
      ...(reuse ? { reuse } : {}),
      // The repository's real path: two clones never share caches (README, Caches).
      cacheScope: await repositoryCacheScope(workspace),
      signal: controller.signal,
      approvals: cliApprovals({
        approve: values.approve ?? [],
        ...(ask ? { ask: (question, signal) => runReporter.aside(() => ask(question, signal)) } : {}),
      }),
      observer: (event) => {
        runFile.observe(event);
        runReporter.onEvent(event);
      },
    });
    await runFile.flush();
    await releaseRun(runDir);
  } finally {
    runReporter.close();
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
  progress.write(runSummary(record, paint, relativeToCwd(io.cwd, runDir), allowed));
  if (values.json) io.stdout.write(`${JSON.stringify({ ...record, dir: runDir }, null, 2)}\n`);
  return EXIT[record.status as keyof typeof EXIT] ?? 2;
}

/** What earlier runs here could not remove (the engine was unreachable) goes now, or next time. */
async function removeLeftovers(
  runsDir: string,
  backend: Backend,
  note: (message: string) => void,
): Promise<void> {
  let sweep: Awaited<ReturnType<typeof removeLeftoverRuns>>;
  try {
    sweep = await removeLeftoverRuns(runsDir, backend);
  } catch (error) {
    note(
      `could not look for what earlier runs left: ${error instanceof Error ? error.message : String(error)}`,
    );
    return;
  }
  for (const id of sweep.removed)
    note(`removed what run ${id} left on ${backend.name} (its cleanup could not reach the engine)`);
  for (const { id, reason } of sweep.failed)
    note(`could not remove what run ${id} left: ${reason}; the next run tries again`);
}

/** Why an `--approve` value names nothing to approve, or undefined when each names a gated step. */
function unknownApprovals(approve: readonly string[], plan: Plan): string | undefined {
  const gated = plan.steps.filter((step) => step.approval !== undefined);
  for (const name of approve) {
    if (name === APPROVE_ALL || gated.some((step) => step.name === name || step.baseName === name)) continue;
    const names = [...new Set(gated.map((step) => step.baseName))];
    return `--approve ${name}: no step of ${plan.file} with that name waits for approval (${names.length > 0 ? `those that do: ${names.join(', ')}` : 'none does'})`;
  }
  return undefined;
}

/** `re-run from the failed steps of run X: reuses build; runs test, lint` */
function reusedNote(reuse: NonNullable<Parameters<typeof runPipeline>[1]['reuse']>): string {
  const names = (action: string) =>
    [...reuse.plan.steps].filter(([, decision]) => decision.action === action).map(([name]) => name);
  const reused = names('reuse');
  return `re-run from the failed steps of run ${reuse.plan.from}: reuses ${reused.length > 0 ? reused.join(', ') : 'nothing'}; runs ${names('run').join(', ') || 'nothing'} (gbcms plan --from-failed says why)`;
}

function relativeToCwd(cwd: string, path: string): string {
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}
