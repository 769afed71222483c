// `gbcms plan`: shows which steps would run for a trigger, in which order, and why others
// would not. Reads and compiles only; nothing is pulled, built or run.
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { formatDuration } from '../config/units.ts';
import { formatDiagnostic } from '../diagnostics.ts';
import { type LoadedPlan, loadPlan } from '../load-plan.ts';
import { defaultPipelinePath, PipelineReadError } from '../pipeline.ts';
import type {
  ApprovalGate,
  ConcurrencyGroup,
  FileSchedule,
  Plan,
  PlannedStep,
  ResolvedEnvironment,
  Trigger,
} from '../plan.ts';
import { commandArgs } from './args.ts';
import { count } from './count.ts';
import {
  FROM_FAILED_HELP,
  type FromFailed,
  FromFailedError,
  formatReuse,
  readEarlierRun,
  reuseOf,
  takeFromFailed,
} from './from-failed.ts';
import { INCLUDE_HELP, INCLUDE_OPTIONS, remoteFromOptions } from './include-options.ts';
import type { CliIO } from './io.ts';
import { TRIGGER_OPTIONS, TriggerOptionError, triggerFromOptions } from './trigger.ts';

const HELP = `usage: gbcms plan [FILE|DIR] [options]

Shows the steps the pipeline in DIR (default: the current directory), or in FILE, would run
for a trigger: in which order, which together, and which are skipped and why.

options:
  --file F                pipeline file (default: DIR/.gbcms.yml)
  --event E               push, pull_request, tag, manual (default), api, cron
  --branch B, --tag T     trigger ref (default: the checkout's branch)
  --commit SHA            trigger commit (default: the checkout's HEAD)
  --changed PATH          a changed file, for when.path (repeatable; default: unknown, matches)
  --json                  print the plan as JSON
${FROM_FAILED_HELP}${INCLUDE_HELP}  -h, --help              this text

exit: 0 planned, 1 invalid pipeline file, 2 usage error or unreadable file
`;

const PLAN_OPTIONS = {
  ...TRIGGER_OPTIONS,
  ...INCLUDE_OPTIONS,
  file: { type: 'string', short: 'f' },
  json: { type: 'boolean' },
} as const;

export async function planCommand(argvGiven: string[], io: CliIO): Promise<number> {
  const { argv, fromFailed } = takeFromFailed(argvGiven);
  const args = commandArgs('plan', argv, PLAN_OPTIONS, HELP, io);
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  if (positionals.length > 1 || (positionals.length === 1 && values.file !== undefined)) {
    io.stderr.write(`gbcms plan: expected one pipeline file or directory\n\n${HELP}`);
    return 2;
  }

  const target = await locatePipeline(io.cwd, values.file ?? positionals[0], values.file !== undefined);
  let loaded: LoadedPlan;
  try {
    loaded = await loadPlan(
      {
        path: target.file,
        display: target.display,
        workspace: target.workspace,
        remote: remoteFromOptions(values, io.env),
      },
      { trigger: () => triggerFromOptions(values, target.workspace) },
    );
  } catch (error) {
    if (error instanceof PipelineReadError || error instanceof TriggerOptionError) {
      io.stderr.write(`gbcms plan: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  for (const diagnostic of loaded.diagnostics) io.stderr.write(`${formatDiagnostic(diagnostic)}\n`);
  const { plan } = loaded;
  if (!plan) return 1;
  if (fromFailed) return planFromFailed(plan, fromFailed, target.workspace, values.json === true, io);
  io.stdout.write(values.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
  return 0;
}

/** The plan, then per step whether a re-run from the failed steps reuses it or runs it, and why. */
async function planFromFailed(
  plan: Plan,
  fromFailed: FromFailed,
  workspace: string,
  json: boolean,
  io: CliIO,
): Promise<number> {
  let text: string;
  try {
    const earlier = await readEarlierRun(join(workspace, '.gbcms', 'runs'), fromFailed.runId);
    const reuse = await reuseOf(earlier, plan);
    const steps = Object.fromEntries(
      [...reuse.plan.steps].map(([name, { action, reason }]) => [name, { action, reason }]),
    );
    text = json
      ? `${JSON.stringify({ ...plan, from_failed: { run: earlier.record.id, steps } }, null, 2)}\n`
      : `${formatPlan(plan)}${formatReuse(earlier, reuse)}`;
  } catch (error) {
    if (!(error instanceof FromFailedError)) throw error;
    io.stderr.write(`gbcms plan: ${error.message}\n`);
    return 2;
  }
  io.stdout.write(text);
  return 0;
}

interface PipelineTarget {
  /** Absolute path of the pipeline file. */
  file: string;
  /** The path as the user would write it, for messages. */
  display: string;
  /** Absolute project directory. */
  workspace: string;
}

/** A directory means its default pipeline file; a file means that file, in its own directory. */
async function locatePipeline(
  cwd: string,
  given: string | undefined,
  isFile: boolean,
): Promise<PipelineTarget> {
  const path = resolve(cwd, given ?? '.');
  if (!isFile && (await isDirectory(path))) {
    const file = defaultPipelinePath(path);
    return { file, display: displayPath(cwd, file), workspace: path };
  }
  return { file: path, display: given ?? displayPath(cwd, path), workspace: dirname(path) };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === '' || isOutside(rel) ? path : rel;
}

/** The human form: a header, then numbered layers with the steps that run together. */
export function formatPlan(plan: Plan): string {
  const byName = new Map(plan.steps.map((s) => [s.name, s]));
  const lines = [`${plan.name} (${plan.file}): ${describeTrigger(plan.trigger)}`];
  if (plan.concurrency) lines.push(`executions ${describeGroup(plan.concurrency, 'execution')}`);
  const number = (i: number) => `${i + 1}. `;
  const relativePath = workspaceRelative(plan);
  plan.layers.forEach((layer, i) => {
    layer.forEach((name, j) => {
      const step = byName.get(name);
      if (!step) throw new Error(`plan layer names unknown step '${name}'`);
      const prefix = j === 0 ? number(i) : ' '.repeat(number(i).length);
      lines.push(`${prefix}${describeStep(relativePath, step)}`);
    });
  });
  const skipped = plan.steps.filter((s) => s.skip !== undefined).length;
  lines.push(
    `${count(plan.steps.length, 'step')} in ${count(plan.layers.length, 'layer')}` +
      (skipped > 0 ? `, ${skipped} skipped` : ''),
  );
  for (const schedule of plan.schedules ?? []) lines.push(describeSchedule(schedule));
  return `${lines.join('\n')}\n`;
}

/** `run one at a time in concurrency group deploy-main; a newer execution cancels an older one` */
function describeGroup(concurrency: ConcurrencyGroup, member: 'execution' | 'step'): string {
  const cancel = concurrency.cancelInProgress ? `; a newer ${member} cancels an older one` : '';
  return `run one at a time in concurrency group ${concurrency.group}${cancel}`;
}

/** `schedule nightly: 0 3 * * * (server's zone) on main (server only)` */
function describeSchedule(schedule: FileSchedule): string {
  const zone = schedule.timezone ?? "the server's zone";
  const branch = schedule.branch ?? 'the default branch';
  return `schedule ${schedule.name}: ${schedule.cron} (${zone}) on ${branch}, run by the server with event cron`;
}

function describeTrigger(trigger: Trigger): string {
  const parts: string[] = [trigger.event];
  if (trigger.branch !== undefined) parts.push(`branch ${trigger.branch}`);
  if (trigger.tag !== undefined) parts.push(`tag ${trigger.tag}`);
  if (trigger.commit !== undefined) parts.push(`commit ${trigger.commit.slice(0, 12)}`);
  if (trigger.changedPaths !== undefined) {
    parts.push(`${trigger.changedPaths.length} changed path${trigger.changedPaths.length === 1 ? '' : 's'}`);
  }
  return parts.join(', ');
}

function describeStep(relativePath: (path: string) => string, step: PlannedStep): string {
  const text = `${step.name} (${describeEnvironment(relativePath, step.environment)})`;
  if (step.skip !== undefined) return `${text}  skipped: ${step.skip}`;
  const notes: string[] = [];
  if (step.concurrency) notes.push(`steps ${describeGroup(step.concurrency, 'step')}`);
  if (step.approval) notes.push(describeApproval(step.approval));
  return [text, ...notes].join('  ');
}

/** `waits for approval by alice, admin (30m): "Deploy to production?"` */
function describeApproval(gate: ApprovalGate): string {
  const by = gate.approvers.length > 0 ? ` by ${gate.approvers.join(', ')}` : '';
  const within = gate.timeoutMs === undefined ? '' : ` (${formatDuration(gate.timeoutMs)})`;
  const message = gate.message === undefined ? '' : `: ${JSON.stringify(gate.message)}`;
  return `waits for approval${by}${within}${message}`;
}

function describeEnvironment(relativePath: (path: string) => string, env: ResolvedEnvironment): string {
  const where = env.build
    ? `built from ${relativePath(resolve(env.build.context, env.build.dockerfile))}`
    : (env.image ?? '');
  // An anonymous environment's name is its image: saying it twice adds nothing.
  return env.name.startsWith('image:') ? where : `${env.name}: ${where}`;
}

function workspaceRelative(plan: Plan): (path: string) => string {
  return (path) => {
    const rel = relative(plan.workspace, path);
    return isOutside(rel) ? path : rel;
  };
}

function isOutside(relativePath: string): boolean {
  return relativePath === '..' || relativePath.startsWith('../') || isAbsolute(relativePath);
}
