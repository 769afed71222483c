// One execution a runner runs, as the server follows it: the events the runner sends are
// taken in order exactly once (a retried batch is recognised by its position), the step logs
// are written where a local run writes them, and the rest goes to the run's observer (the
// recorder). It ends when the runner finishes it, or when its lease is lost: then every step
// still going ends `error` with "runner lost: NAME", an engine fault, and nothing runs twice.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RunEvent, RunObserver } from '../../engine/events.ts';
import type { StepRecord } from '../../engine/run-record.ts';
import { isFinished, type RunStatus } from '../../engine/status.ts';

const SAFE_LOG_PATH = /^logs\/[A-Za-z0-9][A-Za-z0-9._-]*\.log$/;

export interface RemoteOutcome {
  status: RunStatus;
  reason: string | null;
}

export class EventGapError extends Error {
  constructor(readonly received: number) {
    super(`events are missing: the server holds ${received}`);
    this.name = 'EventGapError';
  }
}

/** What a successor needs to follow the run on (runner-state.ts), as of the last batch taken. */
export interface RemoteSnapshot {
  received: number;
  steps: StepRecord[];
  logBytes: Record<string, number>;
}

export interface RemoteRunOptions {
  /** Kept after each batch, before the runner hears it was taken (several servers). */
  persist?(snapshot: RemoteSnapshot): Promise<void>;
  /** Holds the live stream's events back from its subscribers until the release (persist's). */
  hold?(): () => void;
  /** Taken over from a server that died: where it stood (its log files already cut back to it). */
  resume?: RemoteSnapshot;
}

export class RemoteRun {
  readonly executionId: string;
  /** The runner holding it, once claimed. */
  runner: string | undefined;
  leaseId: string | undefined;
  /** Someone terminated it while a runner holds it: the runner hears it at its next heartbeat. */
  cancelRequested = false;
  readonly #runDir: string;
  readonly #observe: RunObserver;
  readonly #steps = new Map<string, StepRecord>();
  #received = 0;
  /** Bytes in each log file this run wrote, by its path in the run folder. */
  readonly #logBytes = new Map<string, number>();
  readonly #persist: RemoteRunOptions['persist'];
  readonly #hold: RemoteRunOptions['hold'];
  /** Batches are applied one after the other, in the order they were accepted. */
  #applying: Promise<void> = Promise.resolve();
  #settle!: (outcome: RemoteOutcome) => void;
  readonly outcome: Promise<RemoteOutcome>;
  #ended = false;

  constructor(executionId: string, runDir: string, observe: RunObserver, options: RemoteRunOptions = {}) {
    this.executionId = executionId;
    this.#runDir = runDir;
    this.#observe = observe;
    this.#persist = options.persist;
    this.#hold = options.hold;
    if (options.resume) {
      this.#received = options.resume.received;
      for (const step of options.resume.steps) this.#steps.set(step.name, step);
      for (const [log, bytes] of Object.entries(options.resume.logBytes)) this.#logBytes.set(log, bytes);
    }
    this.outcome = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  get received(): number {
    return this.#received;
  }

  /** Takes the events of a batch it does not hold yet; returns how many it holds now. */
  accept(from: number, events: readonly RunEvent[]): Promise<number> {
    const work = this.#applying.then(async () => {
      if (from > this.#received) throw new EventGapError(this.#received);
      const fresh = events.slice(this.#received - from);
      if (fresh.length === 0 || this.#ended) return this.#received;
      this.#received += fresh.length;
      await this.#writeLogs(fresh);
      // Kept before any page sees them: a successor numbers its events after the ones kept.
      const release = this.#hold?.();
      try {
        for (const event of fresh) {
          if (event.type === 'run') for (const step of event.run.steps) this.#steps.set(step.name, step);
          if (event.type === 'step') this.#steps.set(event.step.name, event.step);
          this.#observe(event);
        }
        await this.#persist?.(this.snapshot());
      } finally {
        release?.();
      }
      return this.#received;
    });
    this.#applying = work.then(
      () => undefined,
      () => undefined,
    );
    return work;
  }

  /**
   * Keeps where the run stands (persist) once the batches being applied are: for an event from
   * outside the runner's batches, whose stream id a successor must not give again.
   */
  keep(): Promise<void> {
    const work = this.#applying.then(() => this.#persist?.(this.snapshot()));
    this.#applying = work.then(
      () => undefined,
      () => undefined,
    );
    return work;
  }

  snapshot(): RemoteSnapshot {
    return {
      received: this.#received,
      steps: [...this.#steps.values()],
      logBytes: Object.fromEntries(this.#logBytes),
    };
  }

  /** The runner says how it ended, once every event it sent is taken. False when events are missing. */
  async finish(outcome: RemoteOutcome, sent: number): Promise<boolean> {
    await this.#applying;
    if (sent > this.#received) return false;
    this.#end(outcome);
    return true;
  }

  /** Ended before any runner took it (terminated while it waited). */
  cancelWaiting(): void {
    this.#end({ status: 'killed', reason: null });
  }

  /** The runner stopped heartbeating: what it was running ends `error`, nothing is retried. */
  async lost(runner: string): Promise<void> {
    await this.#applying;
    if (this.#ended) return;
    const reason = `runner lost: ${runner}`;
    const now = new Date();
    this.#observe({ type: 'notice', message: reason });
    for (const step of this.#steps.values()) {
      if (isFinished(step.status)) continue;
      const started = step.started_at === null ? null : Date.parse(step.started_at);
      this.#observe({
        type: 'step',
        step: {
          ...step,
          status: 'error',
          reason,
          ended_at: started === null ? null : now.toISOString(),
          duration_ms: started === null ? null : now.getTime() - started,
        },
      });
    }
    this.#end({ status: 'error', reason });
  }

  #end(outcome: RemoteOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#settle(outcome);
  }

  /** Log lines go to the step's log file as a local run stores them: one JSON record a line. */
  async #writeLogs(events: readonly RunEvent[]): Promise<void> {
    const byFile = new Map<string, string[]>();
    for (const event of events) {
      if (event.type === 'run') for (const step of event.run.steps) this.#steps.set(step.name, step);
      if (event.type !== 'log') continue;
      const log = this.#steps.get(event.step)?.log;
      // The runner names the file: only a plain name below logs/ is written.
      if (log === undefined || !SAFE_LOG_PATH.test(log)) continue;
      const lines = byFile.get(log) ?? [];
      lines.push(`${JSON.stringify(event.line)}\n`);
      byFile.set(log, lines);
    }
    for (const [log, lines] of byFile) {
      const file = join(this.#runDir, log);
      const text = lines.join('');
      await mkdir(dirname(file), { recursive: true });
      await appendFile(file, text);
      this.#logBytes.set(log, (this.#logBytes.get(log) ?? 0) + Buffer.byteLength(text));
    }
  }
}
