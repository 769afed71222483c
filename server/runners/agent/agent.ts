// `gbcms runner` at work: removes what a previous process of this runner left, then claims
// executions from the server (a long poll) up to its capacity, runs each (run-job.ts) and
// heartbeats the leases it holds every HEARTBEAT_MS. The server cut off: steps go on and their
// events wait, spilling to disk (event-sender.ts, spill-buffer.ts); past the job's lease (the
// server says how long; LEASE_MS from servers that do not) without an answer the server has
// given the work up, so the runner stops it and removes its containers. A 401 means its token was revoked:
// it stops what it runs and exits.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Backend } from '../../../engine/backends/types.ts';
import { packageVersion } from '../../../engine/package-info.ts';
import { HEARTBEAT_MS, LEASE_MS } from '../protocol.ts';
import { type RunnerClient, RunnerRevoked } from './client.ts';
import { CLAIMED_DIR, type JobControl, runClaimedJob, WORK_DIR } from './run-job.ts';

export interface AgentOptions {
  client: RunnerClient;
  backend: Backend;
  dataDir: string;
  capacity: number;
  labels: string[];
  /** The most undelivered output one execution keeps while the server does not answer. */
  bufferBytes?: number;
  log(message: string): void;
  /** Stops claiming; running executions finish first. */
  signal: AbortSignal;
}

const RETRY_MS = 1_000;

/** Resolves 0 once stopped by `signal` with nothing running, 1 when the token was refused. */
export async function runAgent(options: AgentOptions): Promise<number> {
  const { client, log } = options;
  await removeLeftovers(options);
  const jobs = new Map<string, { control: JobControl; done: Promise<void>; leaseMs: number }>();
  let revoked = false;
  let lastAnswer = Date.now();
  const stopAll = (why: string, only: (leaseMs: number) => boolean = () => true) => {
    for (const [id, job] of jobs) {
      if (job.control.lost || !only(job.leaseMs)) continue;
      log(`stopping ${id}: ${why}`);
      job.control.lost = true;
      job.control.controller.abort();
    }
  };

  const beat = setInterval(() => {
    if (jobs.size === 0) {
      lastAnswer = Date.now();
      return;
    }
    client.heartbeat([...jobs.keys()]).then(
      (answer) => {
        lastAnswer = Date.now();
        for (const id of answer.lost) {
          const job = jobs.get(id);
          if (!job) continue;
          log(`lease lost on ${id}: stopping it`);
          job.control.lost = true;
          job.control.controller.abort();
        }
        for (const id of answer.cancel) jobs.get(id)?.control.controller.abort();
      },
      (error: unknown) => {
        if (error instanceof RunnerRevoked) {
          revoked = true;
          stopAll('the runner token was refused');
        } else {
          // Only the work whose lease has run out: the server has given that up.
          const silentMs = Date.now() - lastAnswer;
          stopAll(
            `the server has not answered for ${Math.round(silentMs / 1000)} s`,
            (leaseMs) => silentMs > leaseMs,
          );
        }
      },
    );
  }, HEARTBEAT_MS);

  const claiming = new AbortController();
  const onStop = () => claiming.abort();
  options.signal.addEventListener('abort', onStop, { once: true });
  try {
    while (!options.signal.aborted && !revoked) {
      const free = options.capacity - jobs.size;
      if (free <= 0) {
        await Promise.race([...[...jobs.values()].map((job) => job.done), abortion(options.signal)]);
        continue;
      }
      let claimed: Awaited<ReturnType<RunnerClient['claim']>>;
      try {
        claimed = await client.claim(
          {
            capacity: free,
            slots: options.capacity,
            labels: options.labels,
            version: packageVersion(),
            backend: options.backend.name,
          },
          claiming.signal,
        );
      } catch (error) {
        if (options.signal.aborted) break;
        if (error instanceof RunnerRevoked) {
          log(`the server refused this runner's token: ${error.message}`);
          revoked = true;
          break;
        }
        log(`could not claim work: ${(error as Error).message}`);
        await sleep(RETRY_MS);
        continue;
      }
      for (const job of claimed) {
        const id = job.execution.id;
        const control: JobControl = { controller: new AbortController(), lost: false };
        const done = runClaimedJob(job, control, options)
          .catch((error: unknown) => log(`execution ${id}: ${(error as Error).message}`))
          .finally(() => jobs.delete(id));
        jobs.set(id, { control, done, leaseMs: job.lease_ms ?? LEASE_MS });
      }
    }
    if (revoked) stopAll('the runner token was refused');
    await Promise.all([...jobs.values()].map((job) => job.done));
  } finally {
    clearInterval(beat);
    options.signal.removeEventListener('abort', onStop);
  }
  return revoked ? 1 : 0;
}

/** Runs a killed process of this runner left: their containers and folders go. */
async function removeLeftovers(options: AgentOptions): Promise<void> {
  const claimed = join(options.dataDir, CLAIMED_DIR);
  const ids = await readdir(claimed).catch(() => [] as string[]);
  for (const id of ids) {
    options.log(`removing what execution ${id} left when this runner stopped`);
    await options.backend.destroyRun(id);
    await rm(join(options.dataDir, WORK_DIR, id), { recursive: true, force: true });
    await rm(join(claimed, id), { force: true });
  }
}

function abortion(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
