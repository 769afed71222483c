// The runner's HTTP client for the runner endpoints (routes/api/runner.ts). Network trouble and
// 5xx answers are ServerUnreachable (callers retry, within the lease grace); a 401 is
// RunnerRevoked (the token is wrong or revoked: nothing more will work); other answers are
// RunnerRequestError. Calls go to the server in use of its ServerList (server-list.ts); a call
// that fails at the connection level or gets 502/503/504 moves the list on to the next server,
// so the caller's retry, and every later call, goes there.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import type {
  ClaimedJob,
  ClaimRequest,
  EventAck,
  EventBatch,
  FinishRequest,
  GateAnswer,
  GateRequest,
  HeartbeatResponse,
} from '../protocol.ts';
import { connectionFailure, ServerList, statusSwitches } from './server-list.ts';

export class ServerUnreachable extends Error {
  /** The server the call went to. */
  readonly server: string | undefined;

  constructor(message: string, options?: ErrorOptions & { server?: string }) {
    super(message, options);
    this.name = 'ServerUnreachable';
    this.server = options?.server;
  }
}

export class RunnerRevoked extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunnerRevoked';
  }
}

export class RunnerRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'RunnerRequestError';
  }
}

export class RunnerClient {
  readonly #servers: ServerList;
  readonly #token: string;

  /** `servers`: one URL, or the list of `--server` (which switches to the next when one fails). */
  constructor(servers: string | ServerList, token: string) {
    this.#servers = typeof servers === 'string' ? new ServerList([servers]) : servers;
    this.#token = token;
  }

  /** The server calls go to now. */
  get server(): string {
    return this.#servers.current;
  }

  /** How many servers this runner may use. */
  get serverCount(): number {
    return this.#servers.urls.length;
  }

  async claim(body: ClaimRequest, signal?: AbortSignal): Promise<ClaimedJob[]> {
    return ((await this.#json('POST', '/api/runner/claim', body, signal)) as { jobs: ClaimedJob[] }).jobs;
  }

  async heartbeat(executions: string[]): Promise<HeartbeatResponse> {
    return (await this.#json('POST', '/api/runner/heartbeat', { executions })) as HeartbeatResponse;
  }

  async source(id: string): Promise<Readable> {
    const path = `/api/runner/jobs/${encodeURIComponent(id)}/source`;
    const base = this.#servers.current;
    const response = await this.#fetch('GET', path);
    if (!response.body) throw new ServerUnreachable('the source download has no body', { server: base });
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
    // The connection lost mid-download is the server not answering too: the stream fails with
    // ServerUnreachable and the list moves on.
    const out = new PassThrough();
    body.on('error', (error) => out.destroy(this.#lost(base, 'GET', path, error)));
    out.on('close', () => body.destroy());
    body.pipe(out);
    return out;
  }

  async events(id: string, batch: EventBatch): Promise<EventAck> {
    return (await this.#json('POST', `/api/runner/jobs/${encodeURIComponent(id)}/events`, batch)) as EventAck;
  }

  async artifact(id: string, path: string, file: string): Promise<void> {
    const { size } = await stat(file);
    const query = new URLSearchParams({ path }).toString();
    await this.#fetch('PUT', `/api/runner/jobs/${encodeURIComponent(id)}/artifacts?${query}`, {
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    });
  }

  /** Waits up to GATE_WAIT_MS for the decision at a gated step, or (cancel) stops waiting. */
  async gate(id: string, body: GateRequest, signal?: AbortSignal): Promise<GateAnswer> {
    return (await this.#json(
      'POST',
      `/api/runner/jobs/${encodeURIComponent(id)}/gate`,
      body,
      signal,
    )) as GateAnswer;
  }

  async finish(id: string, body: FinishRequest): Promise<void> {
    await this.#json('POST', `/api/runner/jobs/${encodeURIComponent(id)}/finish`, body);
  }

  async #json(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    // #fetch goes to the server in use now (it reads it before waiting on anything).
    const base = this.#servers.current;
    const response = await this.#fetch(method, path, {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      signal,
    });
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.#lost(base, method, path, error, signal);
    }
    return text === '' ? undefined : JSON.parse(text);
  }

  async #fetch(
    method: string,
    path: string,
    init: { body?: string | ReadableStream; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const base = this.#servers.current;
    let response: Response;
    try {
      response = await fetch(base + path, {
        method,
        body: init.body,
        headers: { ...init.headers, authorization: `Bearer ${this.#token}` },
        signal: init.signal,
        ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (error) {
      throw this.#lost(base, method, path, error, init.signal);
    }
    if (response.ok) return response;
    const answer = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
    const message = `${method} ${path}: ${response.status} ${answer.message ?? response.statusText}`;
    if (response.status === 401) throw new RunnerRevoked(message);
    if (statusSwitches(response.status)) {
      this.#servers.failed(base, `${response.status} ${response.statusText}`.trim());
    }
    if (response.status >= 500 || response.status === 429)
      throw new ServerUnreachable(message, { server: base });
    throw new RunnerRequestError(response.status, answer.error, message);
  }

  /** A call to `base` failed on the network: the list moves on when it was the connection. */
  #lost(base: string, method: string, path: string, error: unknown, signal?: AbortSignal): ServerUnreachable {
    const reason = connectionFailure(error);
    if (reason !== undefined && !signal?.aborted) this.#servers.failed(base, reason);
    const why = reason === undefined ? '' : ` (${reason})`;
    return new ServerUnreachable(`${method} ${path}: ${(error as Error).message}${why}`, {
      cause: error,
      server: base,
    });
  }
}
