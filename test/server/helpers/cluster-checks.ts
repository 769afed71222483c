// What the scale-out tests check executions with: pipelines of busybox steps, how often the
// runners started an execution, a step's lines, and a followed event stream.
import { BUSYBOX_IMAGE } from '../../helpers/build-images.ts';
import type { RunnerProcess } from './runner-process.ts';
import { readSse, type SseEvent } from './sse.ts';

export function pipeline(
  steps: Record<string, { commands: string[]; depends_on?: string[]; approval?: string }>,
): string {
  const lines = ['version: 1', 'steps:'];
  for (const [name, step] of Object.entries(steps)) {
    lines.push(`  ${name}:`, `    image: ${BUSYBOX_IMAGE}`, `    commands: ${JSON.stringify(step.commands)}`);
    if (step.depends_on) lines.push(`    depends_on: ${JSON.stringify(step.depends_on)}`);
    if (step.approval) lines.push('    approval:', `      message: ${JSON.stringify(step.approval)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** How many times the runners started execution `id` (run-job.ts logs "running ... (id)"). */
export function starts(runners: readonly RunnerProcess[], id: string): number {
  return runners.reduce((sum, runner) => sum + runner.output().split(`(${id})`).length - 1, 0);
}

/** A step's output lines, without the one that differs per execution. */
export function stepLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !/^execution\b/.test(line));
}

/** Follows an event stream until it ends or breaks; what came, and how it stopped. */
export async function follow(response: Response, onEvent?: (event: SseEvent) => void) {
  const events: SseEvent[] = [];
  let broke: unknown;
  try {
    if (response.status !== 200) throw new Error(`${response.status}: ${await response.text()}`);
    for await (const event of readSse(response.body as ReadableStream<Uint8Array>)) {
      events.push(event);
      onEvent?.(event);
    }
  } catch (error) {
    broke = error;
  }
  return { events, broke };
}

/** The log lines an event stream carried, in order. */
export function logTexts(events: readonly SseEvent[]): string[] {
  return events
    .filter((event) => event.event === 'log')
    .flatMap((event) => (JSON.parse(event.data) as { line: { text: string } }).line.text.split('\n'));
}
