// A forge's commit-status endpoint on 127.0.0.1: records every request, checks it against the
// forge's API description (helpers/forge-api.ts) and answers as told (201 unless a test queued
// other answers, or holds the request to answer it later).
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
  /** The status code it was answered with; 0 while it is held. */
  answer: number;
}

export interface FakeForge {
  /** `http://127.0.0.1:<port>` */
  url: string;
  received: ReceivedStatus[];
  /** Status codes for the next requests, in order; 201 once they are used up. */
  answers: number[];
  /** Requests it matches get no answer until the test gives one through `held`. */
  holdWhen?: (request: Pick<ReceivedStatus, 'url' | 'body'>) => boolean;
  /** Requests waiting for an answer, in arrival order; `answer` is their `received` entry's too. */
  held: { request: ReceivedStatus; answer(code: number): void }[];
  close(): Promise<void>;
}

export async function startFakeForge(validate: RequestValidator): Promise<FakeForge> {
  const received: ReceivedStatus[] = [];
  const answers: number[] = [];
  const held: FakeForge['held'] = [];
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
      const entry: ReceivedStatus = {
        method,
        url,
        headers: request.headers,
        body: body as Record<string, unknown>,
        problems: validate({ method, url, body }),
        answer: 0,
      };
      received.push(entry);
      const reply = (code: number) => {
        entry.answer = code;
        response.writeHead(code, { 'content-type': 'application/json' });
        response.end(code < 300 ? JSON.stringify({ id: received.length }) : '{"message":"no"}');
      };
      if (forge.holdWhen?.(entry)) held.push({ request: entry, answer: reply });
      else reply(answers.shift() ?? 201);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const forge: FakeForge = {
    url: `http://127.0.0.1:${port}`,
    received,
    answers,
    held,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return forge;
}
