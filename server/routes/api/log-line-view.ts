// A log line as pages get it: its text as HTML (colours rendered, text escaped on the server),
// so no page ever turns step output into markup itself.
import type { LogLine } from '../../../engine/logs/log-line.ts';
import { ansiToHtml } from '../../pages/ansi.ts';

export interface HtmlLogLine {
  seq: number;
  time: string;
  stream: LogLine['stream'];
  html: string;
  partial?: true;
  report?: true;
}

export function htmlLogLine(
  line: Pick<LogLine, 'seq' | 'time' | 'stream' | 'text' | 'partial' | 'report'>,
): HtmlLogLine {
  return {
    seq: line.seq,
    time: line.time,
    stream: line.stream,
    html: ansiToHtml(line.text).value,
    ...(line.partial ? { partial: true } : {}),
    ...(line.report ? { report: true } : {}),
  };
}

/** The range API's and the `logs` event's schema of a line. */
export const htmlLogLineSchema = {
  type: 'object',
  required: ['seq', 'time', 'stream', 'html'],
  properties: {
    seq: { type: 'integer', description: 'the line number, from 1' },
    time: { type: 'string' },
    stream: { type: 'string', enum: ['stdout', 'stderr', 'system'] },
    html: { type: 'string', description: 'the text, escaped, with its colours as spans' },
    partial: { type: 'boolean' },
    report: { type: 'boolean' },
  },
} as const;
