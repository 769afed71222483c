// Progress as plain lines, for CI logs and pipes: no cursor movement, one event per line.
// Report lines stay out of the log; progress is printed at most every 5 s per step, metrics as
// one summary line when the step ends.
import type { RunEvent } from '../../events.ts';
import type { ProgressReport } from '../../reports/types.ts';
import type { Paint } from './format.ts';
import { STATUS_SYMBOL, stepSummary } from './format.ts';
import type { Reporter } from './reporter.ts';
import { formatAnnotation, formatProgress, formatTests, ReportsView } from './reports-view.ts';
import { terminalWriter } from './terminal-text.ts';

export const PROGRESS_EVERY_MS = 5000;

export interface PlainReporterOptions {
  now?: () => number;
  /** Names of steps whose failure `allow_failure` lets pass. */
  allowed?: ReadonlySet<string>;
}

export function plainReporter(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  paint: Paint,
  options: PlainReporterOptions = {},
): Reporter {
  const now = options.now ?? Date.now;
  const allowed = options.allowed ?? new Set<string>();
  const out = { write: terminalWriter(stream) };
  const view = new ReportsView();
  /** Per step: when progress was last printed, and what. */
  const printed = new Map<string, { at: number; progress: ProgressReport }>();

  const printProgress = (step: string, progress: ProgressReport) => {
    printed.set(step, { at: now(), progress });
    out.write(`${step} | ${paint('cyan', `progress ${formatProgress(progress)}`)}\n`);
  };

  return {
    onEvent(event: RunEvent) {
      switch (event.type) {
        case 'step': {
          const { step } = event;
          if (step.status === 'running') {
            if (step.attempts <= 1) out.write(`${STATUS_SYMBOL.running} ${step.name}: running\n`);
          } else if (step.status !== 'pending') {
            // The last progress, if a newer one than printed was held back by the interval.
            const progress = view.progress(step.name);
            if (progress && printed.get(step.name)?.progress !== progress) printProgress(step.name, progress);
            out.write(`${STATUS_SYMBOL[step.status]} ${step.name}: ${stepSummary(step, allowed)}\n`);
            const metrics = view.metricSummary(step.name);
            if (metrics) out.write(`${step.name} | metrics: ${metrics}\n`);
          }
          break;
        }
        case 'report': {
          const { step, report } = event;
          view.add(step, report);
          if (report.type === 'progress') {
            const last = printed.get(step);
            if (!last || now() - last.at >= PROGRESS_EVERY_MS) printProgress(step, report);
          } else if (report.type === 'annotation') {
            out.write(`${step} | ${formatAnnotation(report, paint)}\n`);
          } else if (report.type === 'tests') {
            for (const line of formatTests(report, paint)) out.write(`${step} | ${line}\n`);
          }
          break;
        }
        case 'log': {
          if (event.line.report) break;
          const text =
            event.line.stream === 'system' ? paint('dim', `[gbcms] ${event.line.text}`) : event.line.text;
          out.write(`${event.step} | ${text}\n`);
          break;
        }
        case 'notice':
          out.write(`${event.step ? `${event.step} | ` : ''}${paint('yellow', `note: ${event.message}`)}\n`);
          break;
        default:
          break;
      }
    },
    notice(text) {
      out.write(`${text}\n`);
    },
    close() {},
    aside: (work) => work(),
  };
}
