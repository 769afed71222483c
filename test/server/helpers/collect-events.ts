// An execution's events as a subscriber sees them, live or replayed.
import type { ExecutionManager } from '../../../server/executions/manager.ts';
import type { ExecutionEvent } from '../../../server/executions/types.ts';

/** Every event after `afterId` up to and including `end`; `onEvent` sees each as it comes. */
export function collectEvents(
  manager: ExecutionManager,
  id: string,
  afterId?: number,
  onEvent: (event: ExecutionEvent) => void = () => undefined,
): Promise<ExecutionEvent[]> {
  return new Promise((resolve, reject) => {
    const events: ExecutionEvent[] = [];
    manager
      .subscribe(
        id,
        (event) => {
          events.push(event);
          onEvent(event);
          if (event.type === 'end') resolve(events);
        },
        afterId,
      )
      .catch(reject);
  });
}
