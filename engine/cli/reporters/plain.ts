// Progress as plain lines, for CI logs and pipes: no cursor movement, one event per line.
import type { RunEvent } from '../../events.ts';
import type { Paint } from './format.ts';
import { STATUS_SYMBOL, stepSummary } from './format.ts';
import type { Reporter } from './reporter.ts';

export function plainReporter(out: NodeJS.WritableStream, paint: Paint): Reporter {
  return {
    onEvent(event: RunEvent) {
      switch (event.type) {
        case 'step': {
          const { step } = event;
          if (step.status === 'running') {
            if (step.attempts <= 1) out.write(`${STATUS_SYMBOL.running} ${step.name}: running\n`);
          } else if (step.status !== 'pending') {
            out.write(`${STATUS_SYMBOL[step.status]} ${step.name}: ${stepSummary(step)}\n`);
          }
          break;
        }
        case 'log': {
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
    close() {},
  };
}
