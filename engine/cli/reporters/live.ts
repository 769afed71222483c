// Live view for terminals: step logs scroll above a status block that is redrawn in place
// (spinner, state, duration, the latest progress and metrics), like `docker compose up`.
// Report lines never scroll by: annotations and test results are printed as lines instead.
import { createLogUpdate } from 'log-update';
import { formatDuration } from '../../config/units.ts';
import type { RunEvent } from '../../events.ts';
import type { StepRecord } from '../../run-record.ts';
import { count } from '../count.ts';
import { type Paint, STATUS_SYMBOL, stepColor, stepColorFor, stepSummary } from './format.ts';
import type { Reporter } from './reporter.ts';
import { formatAnnotation, formatTests, ReportsView } from './reports-view.ts';
import { terminalLines } from './terminal-text.ts';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 100;
/** Past this many steps the block shows running ones and a tally, to stay on screen. */
const MAX_BLOCK_LINES = 15;

/** `allowed`: names of steps whose failure `allow_failure` lets pass. */
export function liveReporter(
  out: NodeJS.WritableStream,
  paint: Paint,
  allowed: ReadonlySet<string> = new Set(),
): Reporter {
  const update = createLogUpdate(out, { showCursor: false });
  const steps = new Map<string, StepRecord>();
  const view = new ReportsView();
  let frame = 0;
  let width = 0;
  // While a question is asked the status block is not drawn: it would overwrite the prompt.
  let held = false;
  let closed = false;
  const redraw = () => {
    if (!held && !closed) update(render());
  };

  const render = (): string => {
    const all = [...steps.values()];
    const shown =
      all.length <= MAX_BLOCK_LINES
        ? all
        : all.filter((s) => s.status === 'running').slice(0, MAX_BLOCK_LINES);
    width = Math.max(width, ...all.map((s) => s.name.length));
    const lines = shown.map((step) => {
      const symbol =
        step.status === 'running' ? (SPINNER[frame % SPINNER.length] ?? '') : STATUS_SYMBOL[step.status];
      const detail =
        step.status === 'running' && step.started_at
          ? `running ${formatDuration(Date.now() - Date.parse(step.started_at))}${step.attempts > 1 ? ` (attempt ${step.attempts})` : ''}`
          : step.status === 'pending'
            ? 'pending'
            : stepSummary(step, allowed);
      const reports = step.status === 'running' ? view.liveDetail(step.name) : '';
      return `${paint(stepColorFor(step, allowed), symbol)} ${step.name.padEnd(width)}  ${paint('gray', detail)}${reports === '' ? '' : `  ${reports}`}`;
    });
    if (shown.length < all.length) {
      const done = all.filter((s) => s.status !== 'running' && s.status !== 'pending').length;
      lines.push(paint('gray', `  ${done}/${count(all.length, 'step')} done`));
    }
    return lines.join('\n');
  };

  const printAbove = (text: string) => {
    if (closed) {
      out.write(terminalLines(text));
      return;
    }
    if (!held) update.clear();
    // The live view only ever draws on a terminal: step text must not move its cursor.
    out.write(terminalLines(text));
    redraw();
  };

  const timer = setInterval(() => {
    frame += 1;
    redraw();
  }, FRAME_MS);
  timer.unref();

  return {
    onEvent(event: RunEvent) {
      switch (event.type) {
        case 'run':
          for (const step of event.run.steps) steps.set(step.name, step);
          redraw();
          break;
        case 'step': {
          const previous = steps.get(event.step.name);
          steps.set(event.step.name, event.step);
          if (
            previous?.status !== event.step.status &&
            event.step.status !== 'running' &&
            event.step.status !== 'pending'
          ) {
            const step = event.step;
            const metrics = view.metricSummary(step.name);
            printAbove(
              `${paint(stepColorFor(step, allowed), STATUS_SYMBOL[step.status])} ${step.name}: ${stepSummary(step, allowed)}\n${metrics ? `${paint(stepColor(step.name), `${step.name} |`)} metrics: ${metrics}\n` : ''}`,
            );
          } else {
            redraw();
          }
          break;
        }
        case 'report': {
          const { step, report } = event;
          view.add(step, report);
          const prefix = paint(stepColor(step), `${step} |`);
          if (report.type === 'annotation') printAbove(`${prefix} ${formatAnnotation(report, paint)}\n`);
          else if (report.type === 'tests') {
            printAbove(
              formatTests(report, paint)
                .map((line) => `${prefix} ${line}\n`)
                .join(''),
            );
          }
          break;
        }
        case 'log': {
          if (event.line.report) break;
          const prefix = paint(stepColor(event.step), `${event.step} |`);
          const text =
            event.line.stream === 'system' ? paint('dim', `[gbcms] ${event.line.text}`) : event.line.text;
          printAbove(`${prefix} ${text}\n`);
          break;
        }
        case 'notice':
          printAbove(`${paint('yellow', `note: ${event.step ? `${event.step}: ` : ''}${event.message}`)}\n`);
          break;
        default:
          break;
      }
    },
    async aside(work) {
      held = true;
      update.clear();
      try {
        return await work();
      } finally {
        held = false;
        redraw();
      }
    },
    notice(text) {
      printAbove(`${text}\n`);
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      update.clear();
      update.done();
    },
  };
}
