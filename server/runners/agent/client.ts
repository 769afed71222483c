// The runner's HTTP client for the runner endpoints (routes/api/runner.ts). Network trouble and
// 5xx answers are ServerUnreachable (callers retry, within the lease grace); a 401 is
// RunnerRevoked (the token is wrong or revoked: nothing more will work); other answers are
// RunnerRequestError.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type {
  ClaimedJob,
  ClaimRequest,
  EventAck,
  EventBatch,
  FinishRequest,
  HeartbeatResponse,
} from '../protocol.ts';

export class ServerUnreachable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServerUnreachable';
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
  readonly #base: string;
  readonly #token: string;

  constructor(server: string, token: string) {
    this.#base = server.replace(/\/+$/, '');
    this.#token = token;
  }

  async claim(body: ClaimRequest, signal?: AbortSignal): Promise<ClaimedJob[]> {
    return ((await this.#json('POST', '/api/runner/claim', body, signal)) as { jobs: ClaimedJob[] }).jobs;
  }

  async heartbeat(executions: string[]): Promise<HeartbeatResponse> {
    return (await this.#json('POST', '/api/runner/heartbeat', { executions })) as HeartbeatResponse;
  }

  async source(id: string): Promise<Readable> {
    const response = await this.#fetch('GET', `/api/runner/jobs/${encodeURIComponent(id)}/source`);
    if (!response.body) throw new ServerUnreachable('the source download has no body');
    return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
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

  async finish(id: string, body: FinishRequest): Promise<void> {
    await this.#json('POST', `/api/runner/jobs/${encodeURIComponent(id)}/finish`, body);
  }

  async #json(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const response = await this.#fetch(method, path, {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      signal,
    });
    const text = await response.text();
    return text === '' ? undefined : JSON.parse(text);
  }

  async #fetch(
    method: string,
    path: string,
    init: { body?: string | ReadableStream; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(this.#base + path, {
        method,
        body: init.body,
        headers: { ...init.headers, authorization: `Bearer ${this.#token}` },
        signal: init.signal,
        ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (error) {
      throw new ServerUnreachable(`${method} ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (response.ok) return response;
    const answer = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
    const message = `${method} ${path}: ${response.status} ${answer.message ?? response.statusText}`;
    if (response.status === 401) throw new RunnerRevoked(message);
    if (response.status >= 500 || response.status === 429) throw new ServerUnreachable(message);
    throw new RunnerRequestError(response.status, answer.error, message);
  }
}
