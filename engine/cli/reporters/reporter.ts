import type { RunEvent } from '../../events.ts';

/** Shows a run's progress to a person while it goes on. */
export interface Reporter {
  onEvent(event: RunEvent): void;
  /** Stops any live drawing; the terminal is left as a plain log. */
  close(): void;
  /** Runs `work` (a question to the person at the terminal) with live drawing held off meanwhile. */
  aside<T>(work: () => Promise<T>): Promise<T>;
}
