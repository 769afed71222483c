// Waiting, briefly, for a just-started execution to pass its pipeline check: it turns
// `running` once its plan is loaded, and ends `error` at once when the file is invalid.
import type { ExecutionControl } from '../../executions/types.ts';

export interface PlanCheck {
  status: string;
  reason: string | null;
}

/** The execution's status once it leaves `pending`, or undefined when `waitMs` passes first. */
export async function awaitPlanCheck(
  executions: ExecutionControl,
  executionId: string,
  waitMs: number,
): Promise<PlanCheck | undefined> {
  let unsubscribe: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let settle: (check: PlanCheck | undefined) => void = () => undefined;
  const settled = new Promise<PlanCheck | undefined>((resolve) => {
    settle = resolve;
  });
  timer = setTimeout(() => settle(undefined), waitMs);
  try {
    unsubscribe = await executions.subscribe(executionId, (event) => {
      if (event.type !== 'status' && event.type !== 'end') return;
      const { status, reason } = event.execution;
      if (status !== 'pending') settle({ status, reason });
    });
    return await settled;
  } finally {
    clearTimeout(timer);
    timer = undefined;
    unsubscribe?.();
  }
}
