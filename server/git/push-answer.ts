// What the post-receive hook and POST /hooks/git agree on beyond the signed notification: the
// hook may ask the server to hold its answer until the execution has passed its pipeline check
// (bounded), so the pusher learns at once that the file is invalid instead of finding out on
// the page later.

/** Request header: how many seconds the server may wait before answering (at most MAX_PUSH_WAIT_S). */
export const PUSH_WAIT_HEADER = 'x-gbcms-wait';
export const MAX_PUSH_WAIT_S = 8;

/** How the execution stood when the server answered. */
export interface PushAnswer {
  execution_id: string;
  number: number;
  status?: string;
  reason?: string | null;
}

/** A plan error's reason is its diagnostics, `FILE:LINE:COL: error CODE: message`, one per line. */
const DIAGNOSTIC = /^[^\s:]+:\d+:\d+: error /;

/** The line the pusher sees for one ref (printable text only: the caller strips the rest). */
export function pushAnswerLines(answer: PushAnswer, ref: string, pageUrl: string): string[] {
  const queued = `queued execution #${answer.number} for ${ref}: ${pageUrl}`;
  if (answer.status !== 'error') return [queued];
  const first = (answer.reason ?? '').split('\n', 1)[0] ?? '';
  const why = DIAGNOSTIC.test(first) ? `invalid pipeline file: ${first}` : first || 'no reason given';
  return [`execution #${answer.number} for ${ref} ended at once: ${why}`, `see ${pageUrl}`];
}
