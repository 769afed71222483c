// Delivers one execution's events to the server in order, exactly once: batches carry their
// position (`from`), so a batch whose answer was lost is sent again and taken once. An
// artifact's file is uploaded before the event that records it. While the server does not
// answer, events wait here (in memory, up to MAX_BUFFERED_EVENTS) and go out when it answers
// again; the agent decides when to give up (the lease grace) and calls stop().
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunEvent } from '../../../engine/events.ts';
import { type RunnerClient, RunnerRequestError, ServerUnreachable } from './client.ts';

/** Past this many undelivered events the run stops: the server has been away far too long. */
export const MAX_BUFFERED_EVENTS = 200_000;
const BATCH_EVENTS = 500;
const BATCH_CHARS = 512 * 1024;
const RETRY_MS = 500;

export class EventSender {
  readonly #client: RunnerClient;
  readonly #id: string;
  /** The run's folder on this machine: artifacts are read from its artifacts/. */
  readonly #runDir: string;
  /** Events not yet acknowledged; the first is number #acked. */
  #pending: RunEvent[] = [];
  #acked = 0;
  #total = 0;
  #uploaded = 0;
  #stopped = false;
  #wake: (() => void) | undefined;
  readonly #loop: Promise<void>;
  /** Called when the buffer is full: the run must stop. */
  readonly #overflow: () => void;

  constructor(client: RunnerClient, id: string, runDir: string, overflow: () => void) {
    this.#client = client;
    this.#id = id;
    this.#runDir = runDir;
    this.#overflow = overflow;
    this.#loop = this.#deliver();
  }

  /** Events handed over so far. */
  get total(): number {
    return this.#total;
  }

  push(event: RunEvent): void {
    if (this.#stopped) return;
    this.#pending.push(event);
    this.#total++;
    if (this.#pending.length > MAX_BUFFERED_EVENTS) this.#overflow();
    this.#wake?.();
  }

  /** Resolves once every event is delivered, or the sender was stopped. */
  async drained(): Promise<void> {
    while (!this.#stopped && this.#acked < this.#total) await sleep(50);
  }

  /** Gives up: nothing more is sent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #deliver(): Promise<void> {
    while (!this.#stopped) {
      if (this.#pending.length === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      const batch = this.#batch();
      try {
        await this.#uploadArtifacts(batch);
        const { received } = await this.#client.events(this.#id, { from: this.#acked, events: batch });
        this.#acknowledge(received);
      } catch (error) {
        if (error instanceof RunnerRequestError && error.code === 'GBCMS_ERR_EVENTS_MISSING') {
          // Cannot happen while only acknowledged events are dropped; stop rather than loop.
          this.#stopped = true;
          return;
        }
        if (!(error instanceof ServerUnreachable)) {
          this.#stopped = true;
          return;
        }
        await sleep(RETRY_MS);
      }
    }
  }

  #batch(): RunEvent[] {
    const batch: RunEvent[] = [];
    let chars = 0;
    for (const event of this.#pending) {
      const size = JSON.stringify(event).length;
      if (batch.length > 0 && (batch.length >= BATCH_EVENTS || chars + size > BATCH_CHARS)) break;
      batch.push(event);
      chars += size;
    }
    return batch;
  }

  #acknowledge(received: number): void {
    const taken = Math.max(0, received - this.#acked);
    this.#pending = this.#pending.slice(taken);
    this.#acked += taken;
  }

  async #uploadArtifacts(batch: readonly RunEvent[]): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i];
      const number = this.#acked + i;
      if (event?.type !== 'artifact' || number < this.#uploaded) continue;
      const { path } = event.artifact;
      await this.#client.artifact(this.#id, path, join(this.#runDir, 'artifacts', path));
      this.#uploaded = number + 1;
    }
  }
}
