// An in-memory ExecutionControl for route tests: executions are real store rows, events are
// kept per execution for replay, and the test drives what happens (begin, steps, log lines,
// artifacts, reports, finish). Log lines are also written to the step's log file, as the engine
// does, and reports to the store, so the logs and reports endpoints and the pages read real data.
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LogLine, LogStream } from '../../../engine/logs/log-line.ts';
import type { Report } from '../../../engine/reports/types.ts';
import type { StepRecord } from '../../../engine/run-record.ts';
import type { RunStatus, StepStatus } from '../../../engine/status.ts';
import { isFinished } from '../../../engine/status.ts';
import type { OpenGate } from '../../../server/executions/step-gates.ts';
import { type GraphStep, writeStepGraph } from '../../../server/executions/step-graph.ts';
import type {
  ExecutionControl,
  ExecutionEvent,
  ManagerStats,
  StartExecutionRequest,
  StepDecision,
  TerminateResult,
} from '../../../server/executions/types.ts';
import type { Execution, Store } from '../../../server/store/index.ts';

type Listener = (event: ExecutionEvent) => void;
type EventBody = ExecutionEvent extends infer E ? (E extends ExecutionEvent ? Omit<E, 'id'> : never) : never;

interface Feed {
  events: ExecutionEvent[];
  listeners: Set<Listener>;
  seq: Map<string, number>;
  steps: Map<string, StepRecord>;
}

export class FakeExecutions implements ExecutionControl {
  readonly started: StartExecutionRequest[] = [];
  readonly terminated: string[] = [];
  /** Gates the test opened, by `executionId/step`; decided ones leave for `decisions`. */
  readonly gates = new Map<string, OpenGate>();
  readonly decisions: Array<StepDecision & { executionId: string; step: string }> = [];
  private readonly feeds = new Map<string, Feed>();

  constructor(private readonly store: Store) {}

  async start(request: StartExecutionRequest): Promise<Execution> {
    const execution = await this.store.executions.create({
      project_id: request.project.id,
      trigger: request.trigger,
      message: request.message ?? null,
      rerun_of: request.rerunOf ?? null,
      rerun_from_failed: request.fromFailed === true,
      blocked: request.awaitApproval === true,
    });
    this.started.push(request);
    this.emit(execution.id, { type: 'status', execution });
    return execution;
  }

  async terminate(executionId: string, reason = 'terminated by user'): Promise<TerminateResult | undefined> {
    const terminated_at = new Date().toISOString();
    if (!(await this.store.executions.setEnded(executionId, 'killed', reason, terminated_at))) {
      return undefined;
    }
    this.terminated.push(executionId);
    await this.end(executionId);
    return { execution_id: executionId, terminated_at };
  }

  /** Approved executions are recorded, then left pending for the test to drive. */
  async approve(executionId: string, username: string): Promise<Execution | undefined> {
    if (!(await this.store.executions.setApproved(executionId, username))) return undefined;
    const execution = await this.mustGet(executionId);
    this.emit(executionId, { type: 'status', execution });
    return execution;
  }

  stepGate(executionId: string, step: string): OpenGate | undefined {
    return this.gates.get(`${executionId}/${step}`);
  }

  async decideStep(executionId: string, step: string, decision: StepDecision): Promise<boolean> {
    if (!this.gates.delete(`${executionId}/${step}`)) return false;
    this.decisions.push({ executionId, step, ...decision });
    return true;
  }

  async subscribe(executionId: string, listener: Listener, afterId = 0): Promise<() => void> {
    const feed = this.feed(executionId);
    for (const event of feed.events) if (event.id > afterId) listener(event);
    if (feed.events.some((event) => event.type === 'end')) return () => undefined;
    const execution = await this.store.executions.get(executionId);
    if (execution && isFinished(execution.status)) {
      // Ended before this fake saw it (a row made directly in the store): replay, then end.
      listener({ id: feed.events.length + 1, type: 'end', execution });
      return () => undefined;
    }
    feed.listeners.add(listener);
    return () => feed.listeners.delete(listener);
  }

  /** Nothing here runs: no queue, no containers. */
  stats(): ManagerStats {
    return { pending: 0, running: 0, runningSteps: 0 };
  }

  // What tests drive.

  async begin(executionId: string): Promise<void> {
    await this.store.executions.setStarted(executionId);
    const execution = await this.mustGet(executionId);
    this.emit(executionId, { type: 'status', execution });
  }

  async step(
    executionId: string,
    name: string,
    status: StepStatus,
    extra: Partial<StepRecord> = {},
  ): Promise<void> {
    const feed = this.feed(executionId);
    const previous = feed.steps.get(name);
    const now = new Date().toISOString();
    const started_at = previous?.started_at ?? (status === 'pending' ? null : now);
    const ended = isFinished(status) && status !== 'skipped';
    const record: StepRecord = {
      name,
      status,
      exit_code: status === 'success' ? 0 : status === 'failure' ? 1 : null,
      reason: null,
      started_at,
      ended_at: ended ? now : null,
      duration_ms: ended && started_at ? Date.parse(now) - Date.parse(started_at) : null,
      attempts: status === 'pending' ? 0 : Math.max(previous?.attempts ?? 0, 1),
      log: `logs/${name.replace(/[^A-Za-z0-9._-]/g, '_')}.log`,
      ...extra,
    };
    feed.steps.set(name, record);
    await this.store.steps.upsert(executionId, record);
    this.emit(executionId, { type: 'step', step: record });
  }

  async log(
    executionId: string,
    step: string,
    text: string,
    stream: LogStream = 'stdout',
    partial = false,
    report = false,
  ): Promise<LogLine> {
    const feed = this.feed(executionId);
    const record = feed.steps.get(step);
    if (!record) throw new Error(`step ${step} has not been announced`);
    const seq = (feed.seq.get(step) ?? 0) + 1;
    feed.seq.set(step, seq);
    const line: LogLine = {
      seq,
      time: new Date().toISOString(),
      stream,
      text,
      ...(partial ? { partial: true as const } : {}),
      ...(report ? { report: true as const } : {}),
    };
    const file = join(await this.dir(executionId), record.log);
    await mkdir(dirname(file), { recursive: true });
    await appendFile(file, `${JSON.stringify(line)}\n`);
    this.emit(executionId, { type: 'log', step, line });
    return line;
  }

  /** Many stdout lines at once: one write to the log file, then an event per line (benchmarks). */
  async logs(executionId: string, step: string, texts: readonly string[]): Promise<void> {
    const feed = this.feed(executionId);
    const record = feed.steps.get(step);
    if (!record) throw new Error(`step ${step} has not been announced`);
    const time = new Date().toISOString();
    const lines = texts.map((text): LogLine => {
      const seq = (feed.seq.get(step) ?? 0) + 1;
      feed.seq.set(step, seq);
      return { seq, time, stream: 'stdout', text };
    });
    const file = join(await this.dir(executionId), record.log);
    await mkdir(dirname(file), { recursive: true });
    await appendFile(file, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    for (const line of lines) this.emit(executionId, { type: 'log', step, line });
  }

  /** Keeps the steps' dependencies beside the logs, as the recorder does when a run starts. */
  async graph(executionId: string, steps: readonly GraphStep[]): Promise<void> {
    const dir = await this.dir(executionId);
    await mkdir(dir, { recursive: true });
    await writeStepGraph(dir, steps);
  }

  /** Writes the file under the execution's artifacts folder and records it. */
  async artifact(executionId: string, step: string, path: string, content: string | Buffer): Promise<void> {
    const file = join(await this.dir(executionId), 'artifacts', path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    const size = Buffer.byteLength(content);
    const { createHash } = await import('node:crypto');
    const sha256 = createHash('sha256').update(content).digest('hex');
    await this.store.artifacts.add(executionId, [{ step, path, size, sha256 }]);
    this.emit(executionId, { type: 'artifact', artifact: { step, path, size, sha256 } });
  }

  /** Stores a step's reports, as the manager does with what the engine keeps, and streams them. */
  async reports(executionId: string, step: string, reports: readonly Report[]): Promise<void> {
    for (const { seq, report } of await this.store.reports.addBatch(executionId, step, reports)) {
      this.emit(executionId, { type: 'report', step, seq, report });
    }
  }

  async finish(executionId: string, status: RunStatus, reason: string | null = null): Promise<void> {
    await this.store.executions.setEnded(executionId, status, reason);
    await this.end(executionId);
  }

  /** Start, run one step printing `lines` (with `delayMs` between them), and finish with `status`. */
  async play(
    executionId: string,
    script: { step: string; lines: string[]; delayMs?: number; status?: RunStatus },
  ): Promise<void> {
    await this.begin(executionId);
    await this.step(executionId, script.step, 'running');
    for (const text of script.lines) {
      if (script.delayMs) await new Promise((resolve) => setTimeout(resolve, script.delayMs));
      await this.log(executionId, script.step, text);
    }
    const status = script.status ?? 'success';
    await this.step(executionId, script.step, status);
    await this.finish(executionId, status);
  }

  private async end(executionId: string): Promise<void> {
    const execution = await this.mustGet(executionId);
    this.emit(executionId, { type: 'end', execution });
    this.feed(executionId).listeners.clear();
  }

  private async dir(executionId: string): Promise<string> {
    const execution = await this.mustGet(executionId);
    return join(this.store.dataDir, execution.logs_dir);
  }

  private async mustGet(executionId: string): Promise<Execution> {
    const execution = await this.store.executions.get(executionId);
    if (!execution) throw new Error(`no execution ${executionId}`);
    return execution;
  }

  private feed(executionId: string): Feed {
    let feed = this.feeds.get(executionId);
    if (!feed) {
      feed = { events: [], listeners: new Set(), seq: new Map(), steps: new Map() };
      this.feeds.set(executionId, feed);
    }
    return feed;
  }

  private emit(executionId: string, body: EventBody): void {
    const feed = this.feed(executionId);
    const event = { ...body, id: feed.events.length + 1 } as ExecutionEvent;
    feed.events.push(event);
    for (const listener of [...feed.listeners]) listener(event);
  }
}
