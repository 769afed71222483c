// The public shapes of the HTTP reporter (engine/report/http.ts): its options, what it does,
// and the one error it throws.
import type { AnnotationInput } from './inputs.ts';

export interface HttpReporterOptions {
  /** The server's base URL, like `https://ci.example.com`. */
  url: string;
  /** An API token of a developer on the project (or an admin), or a session key (`gbcmsk_...`). */
  token: string;
  /** The project to create the execution in; needed unless `executionId` or a session key is given. */
  projectId?: string;
  /** An external execution created already (by a job script, say): report to it. */
  executionId?: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Reports are sent at most this often; default 500 ms. */
  flushMs?: number;
  /** ...or as soon as this many wait; default 1000 (the server takes up to 10,000 a request). */
  batchSize?: number;
  /** Tries of a request that met a 5xx, a 429 or a network error, the first included; default 6. */
  attempts?: number;
  /** Pause before the first retry, doubled each time up to 8 s; default 250 ms. */
  retryDelayMs?: number;
  /** Reports kept while the server cannot be reached; past it the oldest are lost. Default 100,000. */
  maxBuffered?: number;
  /** Told what could not be delivered; default: one line on stderr per distinct message. */
  onError?: (error: ReporterError) => void;
  now?: () => Date;
}

export interface StartOptions {
  /** The session to group the execution in; created on the server on first use. */
  session?: string;
  /** The execution's label. */
  name?: string;
  /** Seconds without heartbeats or reports before the server ends it as `error`: 10..86400, default 300. */
  heartbeatTimeout?: number;
}

/** The execution as the server answers it (the fields a reporter cares about; there are more). */
export interface ExternalExecution {
  id: string;
  project_id: string;
  number: number;
  status: string;
  reason: string | null;
  external: boolean;
  session_id: string | null;
  name: string | null;
  heartbeat_timeout_s: number | null;
  web_url: string;
  [field: string]: unknown;
}

export type Verdict = 'success' | 'failure';

export interface HttpReporter {
  /** Once known: given, or created by start(). */
  readonly executionId: string | undefined;
  /** Reports that will never reach the server: refused, or given up on. */
  readonly lost: number;
  /**
   * Creates the external execution (unless `executionId` was given) and starts heartbeats.
   * Resolves to the execution, or undefined when the server could not be reached or refused
   * (then `onError` was told, and finish() will reject). Reports made before it are kept.
   */
  start(options?: StartOptions): Promise<ExternalExecution | undefined>;
  /** A point of metric `name`; `step` is the training step, epoch or iteration (whole, >= 0). */
  metric(name: string, value: number, step?: number): void;
  progress(done: number, total: number, message?: string): void;
  annotation(annotation: AnnotationInput): void;
  /** Sends what is buffered; resolves when it is delivered or given up on. Never rejects. */
  flush(): Promise<void>;
  /**
   * Sends what is buffered, stops heartbeats and ends the execution with `status` (`message`
   * becomes its reason). Rejects when the server could not be told.
   */
  finish(status: Verdict, message?: string): Promise<ExternalExecution>;
  /** finish('success') unless finish() was called; for code written against `Reporter`. */
  close(): Promise<void>;
}

export class ReporterError extends Error {
  constructor(
    message: string,
    /** The HTTP status, when the server answered. */
    readonly status?: number,
    /** The server's GBCMS_ERR_* code, when it gave one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ReporterError';
  }
}
