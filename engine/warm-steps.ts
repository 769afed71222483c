// Steps started below the container floor. While a step's dependencies run (or wait warm
// themselves), the backend makes and starts its container ahead, its script held at a gate
// (Backend.prepareStep), so the step begins the moment they succeed instead of after a
// container's create and start. What is prepared is bounded and never wasted silently: a step
// that is skipped, or a run that is terminated, discards its container without running it.
import type { PreparedStep } from './backends/types.ts';
import type { PlannedStep } from './plan.ts';

export type PrepareStep = (step: PlannedStep) => Promise<PreparedStep | undefined>;

export class WarmSteps {
  /** Steps that run, or wait warm: their dependents may be prepared. */
  private readonly going = new Set<string>();
  /** Steps past the point of being prepared: taken, dropped, or prepared once already. */
  private readonly done = new Set<string>();
  /** Prepared and not yet taken, by step name. */
  private readonly warm = new Map<string, Promise<PreparedStep | undefined>>();
  /** Steps whose every dependency is going, in plan order, waiting for a free place. */
  private readonly ready: PlannedStep[] = [];
  private readonly dependents = new Map<string, PlannedStep[]>();
  private readonly discards = new Set<Promise<void>>();
  /** Places taken: from the start of a preparation until its container is released or gone. */
  private held = 0;

  /**
   * @param limit how many prepared steps may wait at once: each holds a started container
   * @param prepare absent when the backend cannot prepare steps: then this does nothing
   */
  constructor(
    steps: readonly PlannedStep[],
    private readonly limit: number,
    private readonly prepare: PrepareStep | undefined,
    private readonly signal: AbortSignal,
  ) {
    if (!prepare) return;
    for (const step of steps) {
      // Skipped by `when:`, or waiting for a person or its concurrency group's turn first:
      // nothing to start ahead for.
      if (step.skip !== undefined || step.approval !== undefined || step.concurrency !== undefined) continue;
      for (const dep of step.dependsOn) {
        const list = this.dependents.get(dep) ?? [];
        list.push(step);
        this.dependents.set(dep, list);
      }
    }
    signal.addEventListener('abort', () => this.discardAll(), { once: true });
  }

  /** The step runs now (its turn came): its dependents may be prepared. */
  running(step: PlannedStep): void {
    this.markGoing(step.name);
  }

  /** The step's turn came: its prepared environment, if it has one (the step runner owns it). */
  take(step: PlannedStep): Promise<PreparedStep | undefined> | undefined {
    this.done.add(step.name);
    const prepared = this.warm.get(step.name);
    this.warm.delete(step.name);
    return prepared;
  }

  /** The step will not run: whatever was prepared for it goes unused. */
  drop(step: PlannedStep): void {
    const prepared = this.take(step);
    if (prepared) this.discard(prepared);
  }

  /** Resolves once every discarded environment is gone (or its removal is with the backend). */
  async settled(): Promise<void> {
    while (this.discards.size > 0) await Promise.all([...this.discards]);
  }

  private markGoing(name: string): void {
    if (this.going.has(name)) return;
    this.going.add(name);
    for (const dependent of this.dependents.get(name) ?? []) {
      if (dependent.dependsOn.every((dep) => this.going.has(dep))) this.ready.push(dependent);
    }
    this.fill();
  }

  private fill(): void {
    while (this.prepare && this.held < this.limit && this.ready.length > 0 && !this.signal.aborted) {
      const step = this.ready.shift() as PlannedStep;
      if (this.done.has(step.name)) continue;
      this.done.add(step.name);
      this.held += 1;
      // A failed preparation is no preparation: the step starts the usual way and says why.
      const prepared = this.prepare(step).then(
        (handle) => this.holding(handle),
        () => this.holding(undefined),
      );
      this.warm.set(step.name, prepared);
      // A step waiting warm counts as going: its own dependents may follow it, within the bound.
      this.markGoing(step.name);
    }
  }

  /** The place stays taken until the container runs (released) or is gone (discarded). */
  private holding(handle: PreparedStep | undefined): PreparedStep | undefined {
    let held = true;
    const free = () => {
      if (!held) return;
      held = false;
      this.held -= 1;
      this.fill();
    };
    if (!handle) {
      free();
      return undefined;
    }
    return {
      release: () => handle.release().finally(free),
      discard: () => handle.discard().finally(free),
    };
  }

  private discardAll(): void {
    for (const [name, prepared] of this.warm) {
      this.warm.delete(name);
      this.discard(prepared);
    }
  }

  private discard(prepared: Promise<PreparedStep | undefined>): void {
    const discarding = prepared.then((handle) => handle?.discard()).catch(() => undefined);
    this.discards.add(discarding);
    void discarding.finally(() => this.discards.delete(discarding));
  }
}
