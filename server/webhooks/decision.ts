// Building a WebhookDecision, the same for every interpreter.
import type { WebhookDecision, WebhookTrigger } from './types.ts';

export function trigger(fields: WebhookTrigger): WebhookDecision {
  return { kind: 'trigger', trigger: withoutUndefined(fields) };
}

export function ignore(reason: string): WebhookDecision {
  return { kind: 'ignore', reason };
}

/** Absent rather than undefined, so a trigger serializes and compares as it reads. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
