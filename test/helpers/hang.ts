// The one wall-clock limit tests use: long enough that only a hang reaches it, however loaded
// the machine, and short enough that a hang fails its test instead of stalling the whole run.
// How fast things are is measured in bench/, not here.

export const HANG_MS = 60_000;

/** `work`, or a failure naming `what` if it has not settled after HANG_MS. */
export async function beforeHang<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every 20 ms until it holds; fails after HANG_MS. */
export async function pollUntil(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const until = Date.now() + HANG_MS;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what}: not so after ${HANG_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
