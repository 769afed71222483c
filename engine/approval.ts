// Approval gates: a gated step waits, holding no runner slot, until whoever runs the pipeline
// (the CLI's prompt or flags, the server's approvers) decides. The engine only asks and waits;
// who may decide, and how, is the caller's business (RunOptions.approvals).
import { formatDuration } from './config/units.ts';
import type { ApprovalGate, PlannedStep } from './plan.ts';

/** What a gate without its own message asks, and the forge says of a blocked run. */
export const WAITING_FOR_APPROVAL = 'waiting for approval';

export interface ApprovalDecision {
  approved: boolean;
  /** Who decided, for the record and the step's reason. */
  by?: string;
  /** Why it was declined, when someone said. */
  reason?: string;
}

/**
 * Asks for a decision on `step`. `signal` aborts when the answer is no longer wanted (the gate
 * timed out or the run was terminated): the caller stops asking and may resolve or reject.
 */
export type ApprovalAsker = (
  step: PlannedStep,
  gate: ApprovalGate,
  signal: AbortSignal,
) => Promise<ApprovalDecision>;

/** Without an asker nobody can approve: the gate is declined at once, saying so. */
export const NOBODY_ASKED: ApprovalAsker = async () => ({
  approved: false,
  reason: 'approval needed, and this run has no one to ask',
});

/**
 * Waits at `gate` and resolves with undefined when the step may start, or with why it is
 * skipped instead: declined (by whom, why), timed out, or the run was terminated.
 */
export async function passGate(
  step: PlannedStep,
  gate: ApprovalGate,
  ask: ApprovalAsker,
  runSignal: AbortSignal,
): Promise<{ approvedBy?: string } | { skip: string }> {
  if (runSignal.aborted) return { skip: 'run was terminated' };
  const asking = new AbortController();
  const stopAsking = () => asking.abort();
  runSignal.addEventListener('abort', stopAsking, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<{ skip: string }>((resolve) => {
    asking.signal.addEventListener('abort', () =>
      resolve({
        skip: runSignal.aborted ? 'run was terminated' : `approval timed out after ${timeoutText(gate)}`,
      }),
    );
    if (gate.timeoutMs !== undefined) timer = setTimeout(stopAsking, gate.timeoutMs);
  });
  const decided = ask(step, gate, asking.signal).then(
    (decision) => decision,
    (error: unknown) =>
      ({ approved: false, reason: `approval failed: ${errorText(error)}` }) as ApprovalDecision,
  );
  try {
    const outcome = await Promise.race([ended, decided]);
    if ('skip' in outcome) return outcome;
    if (outcome.approved) return outcome.by === undefined ? {} : { approvedBy: outcome.by };
    return { skip: declinedText(outcome) };
  } finally {
    clearTimeout(timer);
    runSignal.removeEventListener('abort', stopAsking);
    asking.abort();
  }
}

function declinedText(decision: ApprovalDecision): string {
  if (decision.by === undefined) return decision.reason ?? 'approval declined';
  return `declined by ${decision.by}${decision.reason ? `: ${decision.reason}` : ''}`;
}

function timeoutText(gate: ApprovalGate): string {
  return formatDuration(gate.timeoutMs ?? 0);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
