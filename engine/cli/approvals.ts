// How `gbcms run` decides approval gates: `--approve NAME` (or `all`) approves ahead of time;
// otherwise a person at a terminal is asked y/N; without one nobody can answer, so the step is
// skipped saying how to approve it next time.
import { createInterface } from 'node:readline/promises';
import type { ApprovalAsker, ApprovalDecision } from '../approval.ts';
import type { ApprovalGate, PlannedStep } from '../plan.ts';

/** The word that approves every gate of the run. */
export const APPROVE_ALL = 'all';

export interface CliApprovalOptions {
  /** `--approve` values: step names (with or without their matrix part), or `all`. */
  approve: readonly string[];
  /** Asks a person and resolves with their answer; absent without a terminal. */
  ask?: (question: string, signal: AbortSignal) => Promise<string>;
}

export function cliApprovals(options: CliApprovalOptions): ApprovalAsker {
  const approved = new Set(options.approve);
  // One question at a time: two gates reached together are asked one after the other.
  let asking: Promise<unknown> = Promise.resolve();
  return async (step, gate, signal) => {
    if (approved.has(APPROVE_ALL) || approved.has(step.name) || approved.has(step.baseName)) {
      return { approved: true, by: '--approve' };
    }
    const { ask } = options;
    if (!ask) {
      return { approved: false, reason: `approval needed: run with --approve ${quoteName(step.baseName)}` };
    }
    const turn = asking.then(async (): Promise<ApprovalDecision> => {
      if (signal.aborted) return { approved: false, reason: 'no longer asked' };
      const answer = await ask(question(step, gate), signal);
      return /^\s*y(es)?\s*$/i.test(answer)
        ? { approved: true, by: 'the terminal' }
        : { approved: false, reason: 'declined at the terminal' };
    });
    asking = turn.catch(() => undefined);
    return turn;
  };
}

function question(step: PlannedStep, gate: ApprovalGate): string {
  const message = gate.message ? ` ${gate.message}` : '';
  return `Step '${step.name}' waits for approval.${message} Run it? [y/N] `;
}

function quoteName(name: string): string {
  return /^[\w.-]+$/.test(name) ? name : `'${name.replaceAll("'", "'\\''")}'`;
}

/** A y/N question on the terminal; the answer is empty when the gate stops asking first. */
export function terminalQuestion(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): (question: string, signal: AbortSignal) => Promise<string> {
  return async (text, signal) => {
    const lines = createInterface({ input, output, terminal: false });
    try {
      return await lines.question(text, { signal });
    } catch (error) {
      if (signal.aborted) return '';
      throw error;
    } finally {
      lines.close();
    }
  };
}
