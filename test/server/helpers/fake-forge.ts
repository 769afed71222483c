// A forge's commit-status endpoint on 127.0.0.1: records every request, checks it against the
// forge's API description (helpers/forge-api.ts) and answers as told (201 unless a test queued
// other answers).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestValidator } from '../../helpers/forge-api.ts';

export interface ReceivedStatus {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** What the API description finds wrong with it. */
  problems: string[];
  /** The status code it was answered with. */
  answer: number;
}

export interface FakeForge {
  /** `http://127.0.0.1:<port>` */
  url: string;
  received: ReceivedStatus[];
  /** Status codes for the next requests, in order; 201 once they are used up. */
  answers: number[];
  close(): Promise<void>;
}

export async function startFakeForge(validate: RequestValidator): Promise<FakeForge> {
  const received: ReceivedStatus[] = [];
  const answers: number[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      const method = request.method ?? '';
      const url = request.url ?? '';
      const answer = answers.shift() ?? 201;
      received.push({
        method,
        url,
        headers: request.headers,
        body: body as Record<string, unknown>,
        problems: validate({ method, url, body }),
        answer,
      });
      response.writeHead(answer, { 'content-type': 'application/json' });
      response.end(answer < 300 ? JSON.stringify({ id: received.length }) : '{"message":"no"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
