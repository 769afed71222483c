// Reports over a WebSocket: GET /api/executions/:id/reports/ws on a real server.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { HANG_MS } from '../helpers/poll.ts';
import { type ExternalServer, startExternalServer, waitFor } from './helpers/external-server.ts';

// `ws` (the library behind @fastify/websocket) ships no types: this much of it is used.
interface WsClient {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  on(event: 'open', listener: () => void): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(
    event: 'unexpected-response',
    listener: (request: unknown, response: { statusCode?: number }) => void,
  ): void;
}
type WsConstructor = new (url: string, options?: { headers?: Record<string, string> }) => WsClient;
const { WebSocket } = createRequire(import.meta.url)('ws') as { WebSocket: WsConstructor };

interface Connection {
  socket: WsClient;
  /** The next JSON message from the server. */
  next(): Promise<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens the socket; rejects with the HTTP status when the server refuses the upgrade. */
function connect(url: string, headers: Record<string, string> = {}): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    const queue: Record<string, unknown>[] = [];
    const waiting: ((message: Record<string, unknown>) => void)[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      const waiter = waiting.shift();
      if (waiter) waiter(message);
      else queue.push(message);
    });
    const closed = new Promise<{ code: number; reason: string }>((done) => {
      socket.on('close', (code, reason) => done({ code, reason: reason.toString('utf8') }));
    });
    socket.on('unexpected-response', (_request, response) =>
      reject(new Error(`HTTP ${response.statusCode}`)),
    );
    socket.on('error', reject);
    socket.on('open', () =>
      resolve({
        socket,
        closed,
        next: () => {
          const queued = queue.shift();
          if (queued) return Promise.resolve(queued);
          return new Promise((done) => waiting.push(done));
        },
      }),
    );
  });
}

let s: ExternalServer;
/** The manager's clock: it moves only when a test moves it, and tests sweep for silence themselves. */
let nowMs = Date.now();
before(async () => {
  s = await startExternalServer({
    reportFlushMs: 20,
    minHeartbeatTimeoutS: 1,
    heartbeatSweepMs: 10 * HANG_MS,
    now: () => new Date(nowMs),
  });
});
after(async () => {
  await s.close();
});

async function createExternal(projectId = s.publicProject.id, heartbeatTimeout = 60): Promise<string> {
  const created = await s.api('owner', 'POST', '/api/executions', {
    project_id: projectId,
    external: true,
    heartbeat_timeout: heartbeatTimeout,
  });
  assert.equal(created.status, 201);
  return String(created.body.id);
}

const wsUrl = (id: string, query = '') =>
  `${s.url.replace('http', 'ws')}/api/executions/${id}/reports/ws${query}`;

describe('report WebSocket', () => {
  test('takes reports (one or an array per message), answers problems, and closes when the execution ends', async () => {
    const id = await createExternal();
    const { socket, next, closed } = await connect(wsUrl(id, `?token=${encodeURIComponent(s.tokens.owner)}`));
    socket.send(
      JSON.stringify([
        { type: 'metric', name: 'loss', value: 0.5, step: 1 },
        { type: 'metric', name: 'loss', value: 0.4, step: 2 },
      ]),
    );
    socket.send(JSON.stringify({ type: 'progress', done: 2, total: 4 }));
    socket.send('{"type": "metric", ');
    const invalid = await next();
    assert.equal(invalid.type, 'error');
    assert.equal(invalid.error, 'GBCMS_ERR_INVALID_JSON');
    socket.send(
      JSON.stringify([
        { type: 'metric', name: 'loss', value: 0.3, step: 3 },
        { type: 'metric', name: 'loss', value: 'high' },
      ]),
    );
    const refused = await next();
    assert.equal(refused.type, 'refused');
    assert.equal(refused.accepted, 1);
    assert.equal(refused.refused, 1);
    assert.deepEqual(refused.errors, [{ index: 1, error: 'metric loss: value must be a finite number' }]);

    const finished = await s.api('owner', 'POST', `/api/executions/${id}/finish`, { status: 'success' });
    assert.equal(finished.status, 200);
    const end = await next();
    assert.equal(end.type, 'end');
    assert.equal((end.execution as Record<string, unknown>).status, 'success');
    assert.equal((await closed).code, 1000);

    const stored = await s.store.reports.list({ executionId: id });
    assert.deepEqual(
      stored.items.map((item) =>
        item.report.type === 'metric' ? `${item.report.name}=${item.report.value}` : item.report.type,
      ),
      ['loss=0.5', 'loss=0.4', 'progress', 'loss=0.3'],
      'in the order sent',
    );
  });

  test('the token may come in the Authorization header', async () => {
    const id = await createExternal();
    const { socket } = await connect(wsUrl(id), { authorization: `Bearer ${s.tokens.owner}` });
    socket.send(JSON.stringify({ type: 'metric', name: 'x', value: 1 }));
    await waitFor(async () => (await s.store.reports.lastSeq(id)) === 1);
    socket.close();
  });

  test('refusals are HTTP answers before the upgrade: 401, 403, 404, 409', async () => {
    const open = await createExternal();
    const hidden = await createExternal(s.privateProject.id);
    const ended = await createExternal();
    await s.api('owner', 'POST', `/api/executions/${ended}/finish`, { status: 'failure' });
    const refusal = (url: string, headers: Record<string, string> = {}) =>
      connect(url, headers).then(
        (connection) => {
          connection.socket.close();
          return 'opened';
        },
        (error: unknown) => String(error),
      );
    assert.match(await refusal(wsUrl(open)), /HTTP 401/);
    assert.match(await refusal(wsUrl(open, '?token=not-a-token')), /HTTP 401/);
    assert.match(await refusal(wsUrl(open, `?token=${s.tokens.stranger}`)), /HTTP 403/);
    assert.match(await refusal(wsUrl(hidden, `?token=${s.tokens.stranger}`)), /HTTP 404/);
    assert.match(await refusal(wsUrl(ended, `?token=${s.tokens.owner}`)), /HTTP 409/);
    assert.match(await refusal(wsUrl('no-such-execution', `?token=${s.tokens.owner}`)), /HTTP 404/);
    assert.equal(await refusal(wsUrl(hidden, `?token=${s.tokens.member}`)), 'opened');
    const logged = s.logLines.join('\n');
    assert.match(logged, /reports\/ws\?token=\[redacted\]/, 'the access log has the URL');
    for (const token of Object.values(s.tokens)) assert.equal(logged.includes(token), false, 'but no token');
  });

  test('messages are signs of life; when they stop the execution ends as error and the socket closes', async () => {
    const id = await createExternal(s.publicProject.id, 1);
    const { socket, next, closed } = await connect(wsUrl(id, `?token=${s.tokens.owner}`));
    // 2.4 s in all, a message every 0.8 s: never 1 s of silence.
    for (let step = 0; step < 3; step++) {
      nowMs += 800;
      assert.deepEqual(await s.manager.external.sweep(), [], `alive before message ${step}`);
      socket.send(JSON.stringify({ type: 'metric', name: 'x', value: step, step }));
      // Stored means taken in, and taking it in was the sign of life.
      await waitFor(async () => (await s.store.reports.lastSeq(id)) === step + 1);
    }
    assert.equal((await s.store.executions.get(id))?.status, 'running');
    nowMs += 1001;
    assert.deepEqual(await s.manager.external.sweep(), [id]);
    const end = await next();
    assert.equal(end.type, 'end');
    const execution = end.execution as Record<string, unknown>;
    assert.equal(execution.status, 'error');
    assert.equal(execution.reason, 'reporter stopped responding');
    assert.equal((await closed).code, 1000);
  });
});
