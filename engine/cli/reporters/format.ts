// Shared pieces of how runs look in a terminal and in plain logs.
import { formatDuration } from '../../config/units.ts';
import type { RunRecord, StepRecord } from '../../run-record.ts';
import type { StepStatus } from '../../status.ts';
import { count } from '../count.ts';

const CODES = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
  bold: 1,
  dim: 2,
} as const;
export type Color = keyof typeof CODES;

export type Paint = (color: Color, text: string) => string;

export function painter(enabled: boolean): Paint {
  return enabled ? (color, text) => `\u001b[${CODES[color]}m${text}\u001b[0m` : (_color, text) => text;
}

export const STATUS_SYMBOL: Record<StepStatus, string> = {
  pending: '·',
  blocked: '‖',
  running: '▶',
  success: '✓',
  reused: '↺',
  failure: '✗',
  error: '!',
  killed: '■',
  skipped: '-',
};

export const STATUS_COLOR: Record<StepStatus, Color> = {
  pending: 'gray',
  blocked: 'yellow',
  running: 'cyan',
  success: 'green',
  reused: 'green',
  failure: 'red',
  error: 'magenta',
  killed: 'yellow',
  skipped: 'gray',
};

const STEP_COLORS: Color[] = ['cyan', 'magenta', 'blue', 'yellow', 'green'];

/** A stable colour per step name, so interleaved logs can be told apart. */
export function stepColor(name: string): Color {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return STEP_COLORS[hash % STEP_COLORS.length] ?? 'cyan';
}

/** Said of a failed step whose `allow_failure` lets the run go on as if it had succeeded. */
export const ALLOWED_FAILURE = 'allowed by allow_failure';

/** A failed step the run does not fail for. */
export function failureAllowed(
  step: Pick<StepRecord, 'name' | 'status'>,
  allowed: ReadonlySet<string>,
): boolean {
  return step.status === 'failure' && allowed.has(step.name);
}

/** The colour of a step's line: an allowed failure warns rather than alarms. */
export function stepColorFor(step: Pick<StepRecord, 'name' | 'status'>, allowed: ReadonlySet<string>): Color {
  return failureAllowed(step, allowed) ? 'yellow' : STATUS_COLOR[step.status];
}

/** `failure (allowed by allow_failure), 2s, exit code 1`. */
export function stepSummary(step: StepRecord, allowed: ReadonlySet<string> = new Set()): string {
  const parts: string[] = [failureAllowed(step, allowed) ? `failure (${ALLOWED_FAILURE})` : step.status];
  if (step.duration_ms !== null) parts.push(formatDuration(step.duration_ms));
  if (step.attempts > 1) parts.push(`${step.attempts} attempts`);
  if (step.reason) parts.push(step.reason);
  return parts.join(', ');
}

export function runSummary(
  run: RunRecord,
  paint: Paint,
  runDir: string,
  allowed: ReadonlySet<string> = new Set(),
): string {
  const counts = new Map<string, number>();
  for (const step of run.steps) {
    const key = failureAllowed(step, allowed) ? `failure ${ALLOWED_FAILURE}` : step.status;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const tally = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
  const duration = run.duration_ms === null ? '' : ` in ${formatDuration(run.duration_ms)}`;
  const lines = [
    `${paint(STATUS_COLOR[run.status], `${STATUS_SYMBOL[run.status]} run ${run.status}`)}${duration} (${tally})${run.reason ? `: ${run.reason}` : ''}`,
  ];
  for (const [step, reports] of Object.entries(run.reports)) {
    const tests = reports.tests;
    if (!tests) continue;
    const failed = tests.failures + tests.errors;
    const text = `${count(tests.tests, 'test')}, ${failed} failed${tests.skipped > 0 ? `, ${tests.skipped} skipped` : ''}`;
    lines.push(`  ${step}: ${failed > 0 ? paint('red', text) : text}`);
  }
  const failedAnyway = run.steps.filter((step) => failureAllowed(step, allowed)).map((step) => step.name);
  if (failedAnyway.length > 0)
    lines.push(`  ${paint('yellow', `failed, ${ALLOWED_FAILURE}: ${failedAnyway.join(', ')}`)}`);
  if (run.artifacts.length > 0)
    lines.push(`  ${count(run.artifacts.length, 'artifact')} in ${runDir}/artifacts`);
  lines.push(`  logs and run.json in ${runDir}`);
  return `${lines.join('\n')}\n`;
}
