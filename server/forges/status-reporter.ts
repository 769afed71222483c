// Reports executions' statuses to the forge whose webhook started them. It listens to the
// execution manager's `status` events (and `step-ended`, for projects with per-step statuses)
// and never blocks or fails an execution: each status context of an execution has its own
// queue, posts go out one at a time and in order, a failed post is retried with backoff a
// bounded number of times, and a state still waiting when a newer one arrives is dropped, so
// an older state can never land after a newer one. A post that finally fails becomes a notice
// in the execution's log (while it runs) and a problem on its run page.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunStatus } from '../../engine/status.ts';
import type { StepEnded } from '../executions/manager-types.ts';
import type { Execution, Forge, Project, Store } from '../store/index.ts';
import { commitStatus, FORGE_NAMES, statusContext, stepStatusContext } from './commit-status.ts';
import { ForgePostError, type StatusPoster } from './posters.ts';
import type { ForgeTokens } from './tokens.ts';

/** Waits before the 2nd, 3rd and 4th tries: about half a minute in all, then it gives up. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 5000, 20_000];

export interface StatusReporterOptions {
  store: Pick<Store, 'forges' | 'projects' | 'statusSettings'>;
  tokens: ForgeTokens;
  posters: Partial<Record<Forge, StatusPoster>>;
  /** The run page's absolute URL, the status's link; undefined without a public URL. */
  executionPage(executionId: string): string | undefined;
  /** Publishes a notice in the execution's live log; false once it ended. */
  notice(executionId: string, message: string): boolean;
  logger: {
    info(details: object, message: string): void;
    warn(details: object, message: string): void;
  };
  retryDelaysMs?: readonly number[];
}

/** One status to report: the execution's, or one of its steps'. */
interface Reported {
  status: RunStatus;
  reason: string | null;
  /** The step's name; undefined for the execution's own status. */
  step?: string;
}

interface Queue {
  /** The newest status asked for; an older one not yet posted gives way to it. */
  latest: number;
  tail: Promise<void>;
}

export class StatusReporter {
  readonly #options: StatusReporterOptions;
  readonly #queues = new Map<string, Queue>();
  /** Aborted by close(): posts in flight are cut off and nothing more is tried. */
  readonly #closing = new AbortController();
  #sequence = 0;

  constructor(options: StatusReporterOptions) {
    this.#options = options;
  }

  /** For `manager.events.on('status', ...)`: queues the post and returns at once. */
  readonly observe = (execution: Execution): void => {
    this.#enqueue(execution, { status: execution.status, reason: execution.reason });
  };

  /** For `manager.events.on('step-ended', ...)`: the step's own status, when the project wants one. */
  readonly observeStep = ({ execution, step }: StepEnded): void => {
    // A forge knows no `reused`: a reused step succeeded, and its reason says where it was run.
    const status = step.status === 'reused' ? 'success' : step.status;
    this.#enqueue(execution, { status, reason: step.reason, step: step.name });
  };

  #enqueue(execution: Execution, what: Reported): void {
    if (this.#closing.signal.aborted) return;
    if (execution.external === 1 || execution.commit_sha === null) return;
    const seq = ++this.#sequence;
    // One queue per status context: a step's status never makes the execution's give way.
    const key = `${execution.id}\u0000${what.step ?? ''}`;
    const queue = this.#queues.get(key) ?? { latest: seq, tail: Promise.resolve() };
    queue.latest = seq;
    const tail = queue.tail
      .then(() => this.#report(execution, what, seq, queue))
      .catch((error) =>
        this.#options.logger.warn({ err: error, execution: execution.id }, 'forge status reporting failed'),
      )
      .finally(() => {
        if (this.#queues.get(key)?.tail === tail) this.#queues.delete(key);
      });
    queue.tail = tail;
    this.#queues.set(key, queue);
  }

  /** Resolves once every queued post is done or given up (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#queues.size > 0) await Promise.all([...this.#queues.values()].map((q) => q.tail));
  }

  /**
   * Gives up on whatever is still queued or in flight, without recording it as a problem: the
   * server is stopping and its store closes next. Posts would otherwise keep the process alive
   * through their retries, or for ever behind a forge that never answers.
   */
  close(): void {
    this.#closing.abort();
  }

  async #report(execution: Execution, what: Reported, seq: number, queue: Queue): Promise<void> {
    const { store, tokens, posters, logger } = this.#options;
    const closing = this.#closing.signal;
    if (queue.latest !== seq || closing.aborted) return;
    const target = await store.forges.get(execution.id);
    if (!target) return;
    const poster = posters[target.forge];
    const project = await store.projects.get(execution.project_id);
    if (!poster || !project) return;
    if (what.step !== undefined && !(await store.statusSettings.get(project.id)).step_statuses) return;
    const token = await tokens.forgeToken(project, target.forge);
    if (token === undefined) {
      logger.info({ execution: execution.id, forge: target.forge }, 'no forge token: status not reported');
      return;
    }
    const status = commitStatus(target.forge, {
      status: what.status,
      reason: what.reason,
      context: contextOf(project, what),
      targetUrl: this.#options.executionPage(execution.id),
    });
    const sha = execution.commit_sha as string;
    const delays = this.#options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        await poster.post(target, sha, status, token, closing);
        if (target.problem !== null) await store.forges.setProblem(execution.id, null);
        return;
      } catch (error) {
        if (closing.aborted) return;
        const failure = error instanceof ForgePostError ? error : new ForgePostError(String(error));
        const delay = delays[attempt];
        if (!failure.retryable || delay === undefined) {
          const where = `${FORGE_NAMES[target.forge]} (${target.repo}@${sha.slice(0, 12)})`;
          const message = `could not report the status "${status.state}" to ${where}: ${failure.summary}`;
          logger.warn({ execution: execution.id, tries: attempt + 1 }, message);
          this.#options.notice(execution.id, `notice: ${message}`);
          await store.forges.setProblem(execution.id, message);
          return;
        }
        const waited = await sleep(delay, true, { signal: closing }).catch(() => false);
        // A newer status is waiting: it says more than this one would.
        if (!waited || queue.latest !== seq) return;
      }
    }
  }
}

function contextOf(project: Project, what: Reported): string {
  return what.step === undefined ? statusContext(project.name) : stepStatusContext(project.name, what.step);
}
