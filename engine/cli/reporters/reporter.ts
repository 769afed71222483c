import type { RunEvent } from '../../events.ts';

/** Shows a run's progress to a person while it goes on. */
export interface Reporter {
  onEvent(event: RunEvent): void;
  /**
   * Prints a line about the run as a whole (Ctrl-C was pressed) where step output goes, above
   * any live drawing, so none of that drawing is left behind in the scrollback.
   */
  notice(text: string): void;
  /** Stops any live drawing, erasing it; the terminal is left as a plain log. Safe to call twice. */
  close(): void;
  /** Runs `work` (a question to the person at the terminal) with live drawing held off meanwhile. */
  aside<T>(work: () => Promise<T>): Promise<T>;
}
