// The runner's HTTP client over a server list, against two real HTTP servers on this machine
// that answer what each test says: 502/503/504, a refused connection and an answer cut off
// mid-body (a JSON answer or the source download) move it on to the next server, for the
// failing call's retry and every later one; 401, 404, 429 and 500 never do, nor does the runner
// aborting its own claim.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { text } from 'node:stream/consumers';
import { after, before, beforeEach, describe, test } from 'node:test';
import { generateRunnerToken } from '../../server/auth/token-crypto.ts';
import {
  RunnerClient,
  RunnerRequestError,
  RunnerRevoked,
  ServerUnreachable,
} from '../../server/runners/agent/client.ts';
import { ServerList } from '../../server/runners/agent/server-list.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface TestServer {
  url: string;
  server: Server;
  handler: Handler;
  calls: string[];
}

async function testServer(): Promise<TestServer> {
  const self: TestServer = { url: '', server: createServer(), handler: () => undefined, calls: [] };
  self.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    self.calls.push(`${request.method} ${request.url}`);
    request.resume();
    request.on('end', () => self.handler(request, response));
  });
  await new Promise<void>((resolve) => self.server.listen(0, '127.0.0.1', resolve));
  const address = self.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  self.url = `http://127.0.0.1:${address.port}`;
  return self;
}

const json =
  (status: number, body: unknown): Handler =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

/** Headers and the start of a body, then the connection goes. */
const cutMidBody: Handler = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
  response.write('{"lost":"');
  setImmediate(() => response.socket?.destroy());
};

describe('the runner client over several servers', () => {
  let a: TestServer;
  let b: TestServer;
  let lines: string[];
  let client: RunnerClient;
  const alive = json(200, { lost: [], cancel: [] });

  before(async () => {
    a = await testServer();
    b = await testServer();
  });
  after(async () => {
    for (const s of [a, b]) {
      s.server.closeAllConnections();
      await new Promise((resolve) => s.server.close(resolve));
    }
  });
  beforeEach(() => {
    lines = [];
    a.calls = [];
    b.calls = [];
    a.handler = alive;
    b.handler = alive;
    client = new RunnerClient(
      new ServerList([a.url, b.url], (line) => lines.push(line)),
      generateRunnerToken(),
    );
  });

  for (const [status, statusText] of [
    [502, 'Bad Gateway'],
    [503, 'Service Unavailable'],
    [504, 'Gateway Timeout'],
  ] as const) {
    test(`${status} from the server in use: the call fails, its retry and later calls go to the next`, async () => {
      a.handler = json(status, { error: 'GBCMS_ERR_X', message: 'no' });
      await assert.rejects(client.heartbeat(['x']), ServerUnreachable);
      assert.equal(client.server, b.url);
      assert.deepEqual(lines, [
        `server ${a.url} did not answer (${status} ${statusText}); now using ${b.url}`,
      ]);
      await client.heartbeat(['x']);
      await client.finish('x', { status: 'success', reason: null, events: 0 });
      assert.deepEqual(a.calls, ['POST /api/runner/heartbeat']);
      assert.deepEqual(b.calls, ['POST /api/runner/heartbeat', 'POST /api/runner/jobs/x/finish']);
    });
  }

  for (const [status, kind] of [
    [401, RunnerRevoked],
    [404, RunnerRequestError],
    [409, RunnerRequestError],
    [429, ServerUnreachable],
    [500, ServerUnreachable],
  ] as const) {
    test(`${status} never switches: it is the server's answer`, async () => {
      a.handler = json(status, { error: 'GBCMS_ERR_X', message: 'no' });
      await assert.rejects(client.heartbeat(['x']), kind);
      assert.equal(client.server, a.url);
      assert.deepEqual(lines, []);
      await assert.rejects(client.heartbeat(['x']), kind);
      assert.deepEqual(b.calls, []);
    });
  }

  test('an answer cut off mid-body is a server that did not answer', async () => {
    a.handler = cutMidBody;
    await assert.rejects(client.events('x', { from: 0, events: [] }), ServerUnreachable);
    assert.equal(client.server, b.url);
    assert.match(lines[0] ?? '', new RegExp(`^server ${a.url} did not answer \\(.+\\); now using ${b.url}$`));
  });

  test('a source download cut off mid-stream fails with ServerUnreachable and switches', async () => {
    a.handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/x-tar', 'content-length': '100000' });
      response.write(Buffer.alloc(1000));
      setImmediate(() => response.socket?.destroy());
    };
    const stream = await client.source('x');
    await assert.rejects(text(stream), ServerUnreachable);
    assert.equal(client.server, b.url);
    assert.equal(lines.length, 1);
  });

  test('a claim the runner aborts itself switches nothing', async () => {
    a.handler = () => undefined; // a long poll that never answers
    const stop = new AbortController();
    const claim = client.claim(
      { capacity: 1, slots: 1, labels: [], version: 'test', backend: 'local' },
      stop.signal,
    );
    while (a.calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
    stop.abort();
    await assert.rejects(claim, ServerUnreachable);
    assert.equal(client.server, a.url);
    assert.deepEqual(lines, []);
  });

  test('a refused connection switches, round robin back to the first when the second goes too', async () => {
    const gone = await testServer();
    const goneUrl = gone.url;
    await new Promise((resolve) => gone.server.close(resolve));
    client = new RunnerClient(
      new ServerList([goneUrl, a.url], (line) => lines.push(line)),
      generateRunnerToken(),
    );
    await assert.rejects(client.heartbeat(['x']), /connection refused/);
    assert.equal(client.server, a.url);
    a.handler = json(503, {});
    await assert.rejects(client.heartbeat(['x']), ServerUnreachable);
    assert.equal(client.server, goneUrl);
    assert.deepEqual(lines, [
      `server ${goneUrl} did not answer (connection refused); now using ${a.url}`,
      `server ${a.url} did not answer (503 Service Unavailable); now using ${goneUrl}`,
    ]);
  });

  test('with one server nothing switches', async () => {
    const single = new RunnerClient(a.url, generateRunnerToken());
    a.handler = json(503, {});
    await assert.rejects(single.heartbeat(['x']), ServerUnreachable);
    assert.equal(single.server, a.url);
    a.handler = alive;
    await single.heartbeat(['x']);
  });
});
