// Approval gates of the runs runners run. A runner at a gated step asks the server following
// the run (a long poll, forwarded there by any other server), which opens the gate as it does
// for a run of its own: the run page's buttons, the API and who may decide are the same
// (StepGates, through the request's asker). The gate stays open between the runner's polls, so
// one that reconnects finds it; it closes when the runner stops waiting (its own timeout, or
// the run stopped) and when the run ends here. A decision stays for the runner to fetch again
// should its answer be lost on the way.
import { type ApprovalDecision, NOBODY_ASKED } from '../../engine/approval.ts';
import { errors } from '../errors.ts';
import { GATE_WAIT_MS, type GateAnswer, type GateRequest } from './protocol.ts';
import type { RemoteRunRequest } from './remote-dispatch.ts';

interface OpenGate {
  decision: Promise<ApprovalDecision>;
  stop: AbortController;
}

export class RemoteGates {
  readonly #open = new Map<string, OpenGate>();
  readonly #waitMs: number;

  constructor(waitMs = GATE_WAIT_MS) {
    this.#waitMs = waitMs;
  }

  /** The decision, or `decided: false` when none came within the wait or the runner hung up. */
  async answer(request: RemoteRunRequest, body: GateRequest, hungUp: AbortSignal): Promise<GateAnswer> {
    const id = request.execution.id;
    const step = request.plan.steps.find((s) => s.name === body.step);
    if (!step?.approval)
      throw errors.stepNotFound(`the plan has no step '${body.step}' with an approval gate`);
    const key = keyOf(id, step.name);
    if (body.cancel) {
      this.#close(key);
      return { decided: false };
    }
    let open = this.#open.get(key);
    if (!open) {
      const stop = new AbortController();
      const ask = request.approvals ?? NOBODY_ASKED;
      const decision = ask(step, step.approval, stop.signal).catch(
        (error: unknown): ApprovalDecision => ({
          approved: false,
          reason: `approval failed: ${String(error)}`,
        }),
      );
      open = { decision, stop };
      this.#open.set(key, open);
    }
    const decided = await within(open.decision, this.#waitMs, hungUp);
    return decided ? { decided: true, ...decided } : { decided: false };
  }

  /** The run ended here: its open gates close, and nobody may decide them any more. */
  closeAll(executionId: string): void {
    const prefix = keyOf(executionId, '');
    for (const key of [...this.#open.keys()]) if (key.startsWith(prefix)) this.#close(key);
  }

  #close(key: string): void {
    this.#open.get(key)?.stop.abort();
    this.#open.delete(key);
  }
}

function keyOf(executionId: string, step: string): string {
  return `${executionId}\u0000${step}`;
}

/** `promise`'s value, or undefined once `ms` pass or `signal` aborts first. */
function within<T>(promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T | undefined> {
  return new Promise((resolve) => {
    const done = (value: T | undefined) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', hangUp);
      resolve(value);
    };
    const hangUp = () => done(undefined);
    const timer = setTimeout(hangUp, ms);
    signal.addEventListener('abort', hangUp, { once: true });
    if (signal.aborted) hangUp();
    void promise.then(done);
  });
}
