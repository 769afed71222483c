// Server-sent events on a raw response: `id:`, `event:`, `data:` JSON per event, comments to
// keep proxies from timing the connection out, and a cap on what may queue for a client that
// does not read (it is disconnected and resumes with Last-Event-ID).
import type { ServerResponse } from 'node:http';

const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** How long a browser waits before reconnecting after the stream broke. */
const RETRY_MS = 3000;

export class EventStream {
  private keepAlive: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly onClose: () => void,
  ) {
    response.on('close', () => this.close());
  }

  open(headers: Record<string, string>, keepAliveMs: number): void {
    this.response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses unless told not to.
      'x-accel-buffering': 'no',
    });
    this.response.write(`retry: ${RETRY_MS}\n\n`);
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), keepAliveMs);
    this.keepAlive.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(id: number, type: string, data: unknown): void {
    this.write(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    if (this.response.writableLength > MAX_BUFFERED_BYTES) this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    if (!this.response.writableEnded) this.response.end();
    this.onClose();
  }

  private write(text: string): void {
    if (!this.closed) this.response.write(text);
  }
}

/** Where to resume: the Last-Event-ID a reconnecting browser sends wins over `?after=`. */
export function resumeAfter(
  header: string | string[] | undefined,
  after: number | undefined,
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && /^\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return after;
}
