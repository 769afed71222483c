// The approval gates open now: steps of running executions waiting for someone to decide. The
// engine asks through the asker made here (RunOptions.approvals); routes answer through
// decide(). Taking a gate out is synchronous, so of two answers the first decides and the
// second finds nothing to decide (409), and an answer after the engine stopped asking (the
// gate timed out, the run was terminated) finds nothing either.
import type { ApprovalAsker, ApprovalDecision } from '../../engine/approval.ts';
import type { ApprovalGate } from '../../engine/plan.ts';
import type { Store } from '../store/index.ts';
import type { ExecutionLogger } from './logger.ts';

export interface StepDecision {
  approved: boolean;
  /** The username of who decided. */
  by: string;
  /** Why it was declined, when they said. */
  reason?: string;
}

export interface OpenGate {
  gate: ApprovalGate;
  /** When the gate opened, as stored. */
  since: string;
}

interface Waiting extends OpenGate {
  resolve(decision: ApprovalDecision): void;
}

export interface StepGatesContext {
  store: Pick<Store, 'steps'>;
  logger: ExecutionLogger;
  /** Now, as stored. */
  stamp(): string;
  /** The gate opened: record what is asked (best effort; the wait does not depend on it). */
  opened(executionId: string, step: string, gate: ApprovalGate): void;
}

export class StepGates {
  readonly #waiting = new Map<string, Waiting>();
  readonly #ctx: StepGatesContext;

  constructor(ctx: StepGatesContext) {
    this.#ctx = ctx;
  }

  /** The engine's approval seam for one execution. */
  askerFor(executionId: string): ApprovalAsker {
    return (step, gate, signal) =>
      new Promise<ApprovalDecision>((resolve) => {
        const key = keyOf(executionId, step.name);
        this.#waiting.set(key, { gate, since: this.#ctx.stamp(), resolve });
        signal.addEventListener(
          'abort',
          () => {
            // Timed out or terminated: the engine has its reason already; nobody may answer now.
            if (this.#waiting.get(key)?.resolve === resolve) this.#waiting.delete(key);
            resolve({ approved: false });
          },
          { once: true },
        );
        this.#ctx.opened(executionId, step.name, gate);
      });
  }

  /** The gate the step waits at, or undefined when it waits at none. */
  get(executionId: string, step: string): OpenGate | undefined {
    const waiting = this.#waiting.get(keyOf(executionId, step));
    return waiting && { gate: waiting.gate, since: waiting.since };
  }

  /**
   * Takes the gate out of the waiting ones and returns the function that lets the engine know
   * the decision; undefined when the step waits at no gate (any more). Recording the decision
   * happens between the two, so it is stored before the step goes on.
   */
  take(executionId: string, step: string): ((decision: ApprovalDecision) => void) | undefined {
    const key = keyOf(executionId, step);
    const waiting = this.#waiting.get(key);
    this.#waiting.delete(key);
    return waiting?.resolve;
  }

  /**
   * Someone decided: who and when are recorded, then the engine goes on. False when the step
   * waits at no gate (decided already, timed out, or never asked).
   */
  async decide(executionId: string, step: string, decision: StepDecision): Promise<boolean> {
    const letEngineKnow = this.take(executionId, step);
    if (!letEngineKnow) return false;
    const { store, logger } = this.#ctx;
    const recorded = {
      decision: decision.approved ? 'approved' : 'declined',
      by: decision.by,
      at: this.#ctx.stamp(),
    } as const;
    try {
      await store.steps.decideGate(executionId, step, recorded);
    } catch (error) {
      // The step still goes on as decided; only the record of who decided is missing.
      logger.error({ err: error, execution: executionId, step }, 'could not record an approval decision');
    }
    logger.info({ execution: executionId, step, ...recorded }, 'approval gate decided');
    letEngineKnow(decision);
    return true;
  }
}

function keyOf(executionId: string, step: string): string {
  return `${executionId}\u0000${step}`;
}
