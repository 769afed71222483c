// Delivers one execution's events to the server in order, exactly once: batches carry their
// position (`from`), so a batch whose answer was lost is sent again and taken once. An
// artifact's file is uploaded before the event that records it. While the server does not
// answer, events wait in a SpillBuffer (the oldest in memory, the rest in a file, bounded in
// bytes) and go out when it answers again; the agent decides when to give up (the lease grace)
// and calls stop().
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunEvent } from '../../../engine/events.ts';
import { type RunnerClient, RunnerRequestError, RunnerRevoked, ServerUnreachable } from './client.ts';
import { SpillBuffer } from './spill-buffer.ts';

const BATCH_EVENTS = 500;
const BATCH_BYTES = 512 * 1024;
const RETRY_MS = 500;

export interface EventSenderOptions {
  client: RunnerClient;
  /** The execution's id. */
  id: string;
  /** The run's folder on this machine: artifacts are read from its artifacts/. */
  runDir: string;
  /** Where undelivered events beyond the memory window go. */
  spillFile: string;
  /** The most undelivered output kept, memory and disk together (default DEFAULT_BUFFER_BYTES). */
  bufferBytes?: number;
  /**
   * Called when events cannot be delivered: more than the bound, a failing disk, the server
   * refusing them. The run must stop.
   */
  giveUp(why: string): void;
}

export class EventSender {
  readonly #client: RunnerClient;
  readonly #id: string;
  readonly #runDir: string;
  /** Events not yet acknowledged; its first is number `#pending.first`. */
  readonly #pending: SpillBuffer;
  #total = 0;
  #uploaded = 0;
  /** Notices sent in place of refused artifacts, by event number, until acknowledged. */
  readonly #refused = new Map<number, RunEvent>();
  #stopped = false;
  #overflowed = false;
  #wake: (() => void) | undefined;
  readonly #loop: Promise<void>;
  readonly #giveUp: (why: string) => void;

  constructor(options: EventSenderOptions) {
    this.#client = options.client;
    this.#id = options.id;
    this.#runDir = options.runDir;
    this.#giveUp = options.giveUp;
    this.#pending = new SpillBuffer({ file: options.spillFile, limitBytes: options.bufferBytes });
    this.#loop = this.#deliver();
  }

  /** Events handed over so far. */
  get total(): number {
    return this.#total;
  }

  push(event: RunEvent): void {
    if (this.#stopped || this.#overflowed) return;
    if (!this.#pending.push(event)) {
      this.#overflowed = true;
      this.#giveUp('more undelivered output than --buffer allows');
      return;
    }
    this.#total++;
    this.#wake?.();
  }

  /** Resolves once every event is delivered, or the sender was stopped. */
  async drained(): Promise<void> {
    while (!this.#stopped && this.#pending.first < this.#total) await sleep(50);
  }

  /** Gives up: nothing more is sent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    this.#pending.close();
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
      const from = this.#pending.first;
      let batch: RunEvent[];
      try {
        batch = this.#pending.peek(BATCH_EVENTS, BATCH_BYTES);
      } catch (error) {
        this.#bufferFailed(error);
        return;
      }
      let received: number;
      try {
        await this.#uploadArtifacts(from, batch);
        ({ received } = await this.#client.events(this.#id, { from, events: batch }));
      } catch (error) {
        if (!(error instanceof ServerUnreachable)) {
          // Refused (the lease is not this runner's any more; events missing, which cannot
          // happen while only acknowledged events are dropped): the run stops, not silently.
          this.#stopped = true;
          this.#giveUp(`the server refused its events: ${(error as Error).message}`);
          return;
        }
        await sleep(RETRY_MS);
        continue;
      }
      for (const number of this.#refused.keys()) if (number < received) this.#refused.delete(number);
      try {
        this.#pending.acknowledge(received);
      } catch (error) {
        this.#bufferFailed(error);
        return;
      }
    }
  }

  /** The spill file could not be read or written: events would be lost, so the run stops. */
  #bufferFailed(error: unknown): void {
    this.#stopped = true;
    this.#overflowed = true;
    this.#giveUp(`its undelivered output could not be kept: ${(error as Error).message}`);
  }

  /**
   * Uploads the batch's artifacts not uploaded yet. One the server refuses (too large, say) or
   * that cannot be read here is sent as a notice in its place, saying why: the run goes on.
   */
  async #uploadArtifacts(from: number, batch: RunEvent[]): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i];
      const number = from + i;
      const refused = this.#refused.get(number);
      if (refused) batch[i] = refused;
      if (event?.type !== 'artifact' || number < this.#uploaded) continue;
      const { path, step } = event.artifact;
      try {
        await this.#client.artifact(this.#id, path, join(this.#runDir, 'artifacts', path));
      } catch (error) {
        if (!isArtifactRefusal(error)) throw error;
        const message = `artifact ${path} was not kept: ${(error as Error).message}`;
        const notice: RunEvent = { type: 'notice', step, message };
        batch[i] = notice;
        // The batch may be sent again (the server did not answer): the notice goes then too.
        this.#refused.set(number, notice);
      }
      this.#uploaded = number + 1;
    }
  }
}

/** Not a server away nor a lease lost (those stop the delivery), but this artifact refused. */
function isArtifactRefusal(error: unknown): boolean {
  if (error instanceof ServerUnreachable || error instanceof RunnerRevoked) return false;
  if (error instanceof RunnerRequestError) return error.code !== 'GBCMS_ERR_LEASE_NOT_HELD';
  return true;
}
