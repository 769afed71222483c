// One claimed execution on this runner: its source downloaded from the server and unpacked,
// the server's plan moved onto that folder, run by the engine exactly as `gbcms run` runs a
// plan, every event sent back, then the end. A marker file in the data folder names the run
// while it goes, so a runner that was killed removes what it left when it starts again.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-fs';
import type { Backend } from '../../../engine/backends/types.ts';
import { runPipeline } from '../../../engine/run.ts';
import type { RunStatus } from '../../../engine/status.ts';
import type { ClaimedJob } from '../protocol.ts';
import { serverApprovals } from './approvals.ts';
import { type RunnerClient, ServerUnreachable } from './client.ts';
import { EventSender } from './event-sender.ts';
import { rebasePlan } from './rebase-plan.ts';

/** Below the data folder: one file per execution this runner holds, named by its id. */
export const CLAIMED_DIR = 'claimed';
/** Below the data folder: the source and run folder of each execution while it runs. */
export const WORK_DIR = 'work';

export interface JobControl {
  /** Aborted to stop the run: terminated on the server, or the lease is lost. */
  controller: AbortController;
  /** Set before aborting when the server gave the lease up: nothing more is sent. */
  lost: boolean;
  sender?: EventSender;
}

export interface JobContext {
  client: RunnerClient;
  backend: Backend;
  dataDir: string;
  /** The most undelivered output one execution keeps while the server does not answer. */
  bufferBytes?: number;
  log(message: string): void;
}

export async function runClaimedJob(job: ClaimedJob, control: JobControl, ctx: JobContext): Promise<void> {
  const { id } = job.execution;
  const work = join(ctx.dataDir, WORK_DIR, id);
  const source = join(work, 'source');
  const runs = join(work, 'runs');
  const marker = join(ctx.dataDir, CLAIMED_DIR, id);
  await mkdir(join(ctx.dataDir, CLAIMED_DIR), { recursive: true });
  await writeFile(marker, `${job.execution.project} #${job.execution.number}\n`);
  const sender = new EventSender({
    client: ctx.client,
    id,
    runDir: join(runs, id),
    spillFile: join(work, 'undelivered-events.jsonl'),
    bufferBytes: ctx.bufferBytes,
    giveUp: (why) => {
      ctx.log(`${id}: ${why}: stopping it`);
      control.lost = true;
      control.controller.abort();
    },
  });
  control.sender = sender;
  let status: RunStatus = 'error';
  let reason: string | null = null;
  try {
    await downloadSource(ctx.client, id, source);
    ctx.log(`running ${job.execution.project} #${job.execution.number} (${id})`);
    const record = await runPipeline(rebasePlan(job.plan, job.workspace, source), {
      backend: ctx.backend,
      runsDir: runs,
      id,
      signal: control.controller.signal,
      secrets: job.secrets,
      secretRefusals: job.secret_refusals,
      cacheScope: job.cache_scope,
      env: job.env,
      // Gated steps wait for a decision on the server, as they would there.
      approvals: serverApprovals(ctx.client, id),
      observer: (event) => sender.push(event),
    });
    status = record.status;
    reason = record.reason;
  } catch (error) {
    reason = `runner error: ${(error as Error).message}`;
  }
  try {
    if (!control.lost) await sender.drained();
    if (!control.lost)
      await finishWithRetries(ctx.client, id, { status, reason, events: sender.total }, control);
    ctx.log(`${control.lost ? 'gave up' : 'finished'} ${id}: ${control.lost ? 'lease lost' : status}`);
  } finally {
    await sender.stop();
    await ctx.backend.destroyRun(id).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
    await rm(marker, { force: true });
  }
}

/**
 * The execution's source, unpacked into `source`. A server that does not answer fails the run,
 * unless the runner has moved on to another of its servers meanwhile: that one is asked, once
 * per server at most.
 */
async function downloadSource(client: RunnerClient, id: string, source: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await rm(source, { recursive: true, force: true });
    await mkdir(source, { recursive: true });
    try {
      await pipeline(await client.source(id), tar.extract(source));
      return;
    } catch (error) {
      const movedOn = error instanceof ServerUnreachable && error.server !== client.server;
      if (!movedOn || attempt >= client.serverCount) {
        throw new Error(`could not download the source from the server: ${(error as Error).message}`);
      }
    }
  }
}

async function finishWithRetries(
  client: RunnerClient,
  id: string,
  body: { status: RunStatus; reason: string | null; events: number },
  control: JobControl,
): Promise<void> {
  while (!control.lost) {
    try {
      await client.finish(id, body);
      return;
    } catch (error) {
      if (!(error instanceof ServerUnreachable)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
