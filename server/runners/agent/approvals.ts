// A gated step on a runner: the runner asks the server following the run for the decision (a
// long poll), and the server asks its users as for a run of its own (remote-gates.ts). The
// engine's gate times out and stops as on any machine; when it does, the server hears the
// runner stopped waiting, so nobody decides a gate nobody waits at. A server that does not
// answer is asked again (the list moves on to the next one) until the gate's own end.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApprovalAsker } from '../../../engine/approval.ts';
import { type RunnerClient, ServerUnreachable } from './client.ts';

/** How long the runner waits before asking a server that did not answer again. */
const RETRY_MS = 1_000;

/** The engine's asker for the gates of execution `id` (RunOptions.approvals). */
export function serverApprovals(client: RunnerClient, id: string): ApprovalAsker {
  return async (step, _gate, signal) => {
    for (;;) {
      try {
        const answer = await client.gate(id, { step: step.name }, signal);
        if (answer.decided) {
          const { decided: _, ...decision } = answer;
          return decision;
        }
      } catch (error) {
        // Aborted: the gate's end, below. Refused (no lease, no such gate): the step's reason.
        if (!signal.aborted) {
          if (!(error instanceof ServerUnreachable)) throw error;
          await sleep(RETRY_MS, undefined, { signal }).catch(() => undefined);
        }
      }
      if (signal.aborted) {
        // Best effort: a gate left open closes anyway when the run ends on the server.
        await client.gate(id, { step: step.name, cancel: true }).catch(() => undefined);
        return { approved: false };
      }
    }
  };
}
