// A promise that must settle before the hang limit of poll.ts: how long things take is
// measured in bench/, so the only limit a test sets is one that only a hang reaches.
import { HANG_MS } from './poll.ts';

/** `work`, or a failure naming `what` if it has not settled after HANG_MS. */
export async function beforeHang<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${HANG_MS / 1000} s`)), HANG_MS);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}
