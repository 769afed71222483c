// `gbcms/report` over HTTP: reports from code gbcms did not start (a notebook, a cluster job, a
// script on a laptop) to a gbcms server, as an external execution.
//
//   const reporter = createHttpReporter({ url: 'https://ci.example.com', token, projectId });
//   await reporter.start({ session: 'regression', name: 'ridge alpha=0.1' });
//   for (let epoch = 1; epoch <= 10; epoch++) {
//     reporter.metric('loss', train(epoch), epoch);
//     reporter.progress(epoch, 10);
//   }
//   await reporter.finish('success', 'converged');
//
// Reports are stamped when they are made, batched, and sent at most every 500 ms (or as soon
// as 1000 wait), one request at a time; a 5xx answer or a network error is retried with
// growing pauses. Heartbeats go out every heartbeat timeout / 3 while no reports do, so the
// server does not end the execution as "reporter stopped responding" during a long quiet
// computation. Reporting never throws into your code: what cannot be delivered is counted in
// `lost` and told to `onError`. Only finish() (and close()) reject, when the server could not
// be told the outcome, so a script can tell its end was not recorded.
//
// Call finish() (or at least flush()) before the process ends: buffered reports are not sent
// on exit, and the timers do not keep the process alive.
import type { ReportInput } from '../reports/types.ts';
import { reportProblem } from '../reports/validate.ts';
import {
  type ExternalExecution,
  type HttpReporter,
  type HttpReporterOptions,
  ReporterError,
  type StartOptions,
  type Verdict,
} from './http-types.ts';
import { type AnnotationInput, annotationInput, metricInput, progressInput } from './inputs.ts';

export * from './http-types.ts';

type Timed = ReportInput & { time: string };

interface Answer {
  status: number;
  body: unknown;
}

const MAX_RETRY_DELAY_MS = 8000;
/** How a session key (rather than an API token) starts. */
const SESSION_KEY_PREFIX = 'gbcmsk_';

export function createHttpReporter(options: HttpReporterOptions): HttpReporter {
  return new HttpReporterImpl(options);
}

class HttpReporterImpl implements HttpReporter {
  readonly #base: string;
  readonly #options: HttpReporterOptions;
  readonly #fetch: typeof fetch;
  readonly #flushMs: number;
  readonly #batchSize: number;
  readonly #now: () => Date;
  readonly #onError: (error: ReporterError) => void;
  #executionId: string | undefined;
  #buffer: Timed[] = [];
  #lost = 0;
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  /** When a request last reached the server: heartbeats are skipped while reports flow. */
  #lastContact = 0;
  #heartbeatMs = 100_000;
  /** Set when the server says the execution has ended, or finish() began: nothing more is sent. */
  #stopped = false;
  #finished = false;
  #startProblem: ReporterError | undefined;

  constructor(options: HttpReporterOptions) {
    this.#options = options;
    this.#base = options.url.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? fetch;
    this.#flushMs = options.flushMs ?? 500;
    this.#batchSize = Math.max(1, Math.min(10_000, options.batchSize ?? 1000));
    this.#now = options.now ?? (() => new Date());
    this.#onError = options.onError ?? stderrOnce();
    this.#executionId = options.executionId;
  }

  get executionId(): string | undefined {
    return this.#executionId;
  }

  get lost(): number {
    return this.#lost;
  }

  async start(start: StartOptions = {}): Promise<ExternalExecution | undefined> {
    let execution: ExternalExecution;
    try {
      execution = this.#executionId === undefined ? await this.#create(start) : await this.#existing();
    } catch (error) {
      this.#startProblem = asReporterError(error);
      this.#onError(this.#startProblem);
      return undefined;
    }
    this.#startHeartbeats(execution.heartbeat_timeout_s ?? start.heartbeatTimeout ?? 300);
    this.#schedule();
    return execution;
  }

  metric(name: string, value: number, step?: number): void {
    this.#add(metricInput(name, value, step));
  }

  progress(done: number, total: number, message?: string): void {
    this.#add(progressInput(done, total, message));
  }

  annotation(annotation: AnnotationInput): void {
    this.#add(annotationInput(annotation));
  }

  async flush(): Promise<void> {
    for (;;) {
      this.#kick();
      if (!this.#sending) return;
      await this.#sending;
    }
  }

  async finish(status: Verdict, message?: string): Promise<ExternalExecution> {
    if (this.#finished) throw new ReporterError('gbcms report: finish() was called already');
    this.#finished = true;
    clearInterval(this.#heartbeat);
    await this.flush();
    this.#stopped = true;
    clearTimeout(this.#timer);
    const id = this.#executionId;
    if (id === undefined) {
      throw this.#startProblem ?? new ReporterError('gbcms report: start() did not create the execution');
    }
    const body = message === undefined ? { status } : { status, message };
    const answer = await this.#request('POST', `/api/executions/${encodeURIComponent(id)}/finish`, body);
    if (answer.status !== 200) throw refusal('finish', answer);
    return answer.body as ExternalExecution;
  }

  async close(): Promise<void> {
    if (!this.#finished) await this.finish('success');
  }

  #add(input: ReportInput): void {
    if (this.#stopped) {
      this.#lose(1, new ReporterError('gbcms report: the execution has ended; the report is not sent'));
      return;
    }
    const problem = reportProblem(input);
    if (problem) {
      this.#lose(1, new ReporterError(`gbcms report: ${problem}`));
      return;
    }
    this.#buffer.push({ ...input, time: this.#now().toISOString() });
    const max = this.#options.maxBuffered ?? 100_000;
    if (this.#buffer.length > max) {
      const dropped = this.#buffer.length - max;
      this.#buffer.splice(0, dropped);
      this.#lose(
        dropped,
        new ReporterError(`gbcms report: more than ${max} reports waiting; the oldest are lost`),
      );
    }
    if (this.#buffer.length >= this.#batchSize) this.#kick();
    else this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#buffer.length === 0) return;
    this.#timer = setTimeout(() => this.#kick(), this.#flushMs);
    this.#timer.unref();
  }

  #kick(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#sending || this.#executionId === undefined || this.#buffer.length === 0) return;
    this.#sending = this.#sendAll().finally(() => {
      this.#sending = undefined;
      this.#schedule();
    });
  }

  async #sendAll(): Promise<void> {
    const id = this.#executionId;
    while (id !== undefined && this.#buffer.length > 0 && !this.#stopped) {
      const batch = this.#buffer.splice(0, this.#batchSize);
      let answer: Answer;
      try {
        answer = await this.#request('POST', `/api/executions/${encodeURIComponent(id)}/reports`, batch);
      } catch (error) {
        this.#lose(batch.length, asReporterError(error));
        continue;
      }
      if (answer.status === 202) {
        const intake = answer.body as { refused?: number; errors?: { index: number; error: string }[] };
        const refused = intake.refused ?? 0;
        if (refused > 0) {
          const first = intake.errors?.[0];
          this.#lose(
            refused,
            new ReporterError(
              `gbcms report: the server refused ${refused} report(s)${first ? `: ${first.error}` : ''}`,
            ),
          );
        }
        continue;
      }
      if (answer.status === 409) this.#stopped = true;
      this.#lose(
        batch.length + (this.#stopped ? this.#buffer.splice(0).length : 0),
        refusal('reports', answer),
      );
    }
  }

  async #create(start: StartOptions): Promise<ExternalExecution> {
    const { projectId, token } = this.#options;
    // A session key names its project and session itself.
    if (projectId === undefined && !token.startsWith(SESSION_KEY_PREFIX))
      throw new ReporterError('gbcms report: projectId (or executionId) is needed');
    const body: Record<string, unknown> = { external: true };
    if (projectId !== undefined) body.project_id = projectId;
    if (start.session !== undefined) body.session = start.session;
    if (start.name !== undefined) body.name = start.name;
    if (start.heartbeatTimeout !== undefined) body.heartbeat_timeout = start.heartbeatTimeout;
    const answer = await this.#request('POST', '/api/executions', body);
    if (answer.status !== 201) throw refusal('start', answer);
    const execution = answer.body as ExternalExecution;
    this.#executionId = execution.id;
    return execution;
  }

  /** The execution given as `executionId`, after a heartbeat that checks it takes reports. */
  async #existing(): Promise<ExternalExecution> {
    await this.#beat();
    const path = `/api/executions/${encodeURIComponent(this.#executionId ?? '')}`;
    const answer = await this.#request('GET', path);
    if (answer.status !== 200) throw refusal('start', answer);
    return answer.body as ExternalExecution;
  }

  async #beat(): Promise<void> {
    const id = this.#executionId;
    if (id === undefined) return;
    const answer = await this.#request('POST', `/api/executions/${encodeURIComponent(id)}/heartbeat`, {});
    if (answer.status === 409) this.#stopped = true;
    if (answer.status !== 200) throw refusal('heartbeat', answer);
  }

  #startHeartbeats(timeoutS: number): void {
    clearInterval(this.#heartbeat);
    this.#heartbeatMs = Math.max(100, (timeoutS * 1000) / 3);
    this.#heartbeat = setInterval(() => {
      if (this.#stopped) {
        clearInterval(this.#heartbeat);
        return;
      }
      // Reports are signs of life too: no heartbeat while they flow.
      if (Date.now() - this.#lastContact < this.#heartbeatMs / 2) return;
      this.#beat().catch((error: unknown) => this.#onError(asReporterError(error)));
    }, this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Sends `body` as JSON; retries 5xx, 429 and network errors. Rejects when every try failed. */
  async #request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    const attempts = Math.max(1, this.#options.attempts ?? 6);
    let delay = this.#options.retryDelayMs ?? 250;
    let problem: ReporterError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        await sleep(delay);
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      }
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${this.#options.token}` };
        if (body !== undefined) headers['content-type'] = 'application/json';
        const response = await this.#fetch(`${this.#base}${path}`, {
          method,
          headers,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await response.text();
        if (response.status >= 500 || response.status === 429) {
          problem = new ReporterError(
            `gbcms report: the server answered ${response.status}`,
            response.status,
          );
          continue;
        }
        this.#lastContact = Date.now();
        return { status: response.status, body: parseJson(text) };
      } catch (error) {
        problem = new ReporterError(
          `gbcms report: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    throw problem ?? new ReporterError('gbcms report: the request was not sent');
  }

  #lose(count: number, error: ReporterError): void {
    this.#lost += count;
    try {
      this.#onError(error);
    } catch {
      // The user's handler failing must not break reporting.
    }
  }
}

function refusal(what: string, answer: Answer): ReporterError {
  const body = answer.body as { error?: unknown; message?: unknown } | undefined;
  const code = typeof body?.error === 'string' ? body.error : undefined;
  const message = typeof body?.message === 'string' ? body.message : `HTTP ${answer.status}`;
  return new ReporterError(`gbcms report: ${what} refused: ${message}`, answer.status, code);
}

function asReporterError(error: unknown): ReporterError {
  if (error instanceof ReporterError) return error;
  return new ReporterError(`gbcms report: ${error instanceof Error ? error.message : String(error)}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function stderrOnce(): (error: ReporterError) => void {
  const said = new Set<string>();
  return (error) => {
    if (said.has(error.message)) return;
    said.add(error.message);
    process.stderr.write(`${error.message}\n`);
  };
}
