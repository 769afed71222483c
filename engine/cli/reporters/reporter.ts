import type { RunEvent } from '../../events.ts';

/** Shows a run's progress to a person while it goes on. */
export interface Reporter {
  onEvent(event: RunEvent): void;
  /** Stops any live drawing; the terminal is left as a plain log. */
  close(): void;
}
