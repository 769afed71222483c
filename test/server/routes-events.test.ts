import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { parseSse, readSse, type SseEvent } from './helpers/sse.ts';

let server: TestServer;
let base: string;

before(async () => {
  server = await startTestServer({ sseKeepAliveMs: 50 });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  assert.ok(address && typeof address === 'object');
  base = `http://127.0.0.1:${address.port}`;
});
after(() => server.close());

async function newExecution(projectId = server.publicProject.id): Promise<string> {
  const response = await server.request('owner', {
    method: 'POST',
    url: '/api/executions',
    payload: { project_id: projectId },
  });
  return response.json().id;
}

async function endedExecution(): Promise<string> {
  const id = await newExecution();
  await server.executions.play(id, {
    step: 'build',
    lines: ['one', '\u001b[31m<b>red</b>\u001b[0m', 'three'],
  });
  return id;
}

describe('GET /api/executions/:id/events (replay)', () => {
  test('an ended execution replays every event then closes after end', async () => {
    const id = await endedExecution();
    const response = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${id}/events`,
    });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    assert.equal(response.headers['cache-control'], 'no-cache, no-transform');
    const events = parseSse(response.body);
    assert.deepEqual(
      events.map((e) => e.event),
      ['status', 'status', 'step', 'log', 'log', 'log', 'step', 'end'],
    );
    assert.deepEqual(
      events.map((e) => e.id),
      ['1', '2', '3', '4', '5', '6', '7', '8'],
    );
    const end = JSON.parse(events.at(-1)?.data ?? '{}');
    assert.equal(end.type, 'end');
    assert.equal(end.execution.status, 'success');
    assert.equal('logs_dir' in end.execution, false);
    assert.equal(end.execution.logs, `/api/executions/${id}/logs`);
  });

  test('log events carry the line and an escaped, coloured html rendering', async () => {
    const id = await endedExecution();
    const response = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${id}/events`,
    });
    const logs = parseSse(response.body)
      .filter((e) => e.event === 'log')
      .map((e) => JSON.parse(e.data));
    assert.deepEqual(
      logs.map((l) => l.line.text),
      ['one', '\u001b[31m<b>red</b>\u001b[0m', 'three'],
    );
    assert.equal(logs[1].step, 'build');
    assert.equal(logs[1].line.seq, 2);
    assert.match(logs[1].html, /^<span style="color:#[0-9A-Fa-f]+">&lt;b&gt;red&lt;\/b&gt;<\/span>$/);
    assert.doesNotMatch(logs[1].html, /<b>/);
  });

  test('Last-Event-ID and ?after= resume after that event; the header wins', async () => {
    const id = await endedExecution();
    const ids = (events: SseEvent[]) => events.map((e) => Number(e.id));
    const afterQuery = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${id}/events?after=5`,
    });
    assert.deepEqual(ids(parseSse(afterQuery.body)), [6, 7, 8]);
    const afterHeader = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${id}/events?after=1`,
      headers: { 'last-event-id': '6' },
    });
    assert.deepEqual(ids(parseSse(afterHeader.body)), [7, 8]);
  });

  test('private executions: 404 to strangers, streams for members', async () => {
    const id = await newExecution(server.privateProject.id);
    await server.executions.finish(id, 'killed', 'terminated by user');
    assert.equal(
      (await server.request('stranger', { method: 'GET', url: `/api/executions/${id}/events` })).statusCode,
      404,
    );
    assert.equal(
      (await server.request('anonymous', { method: 'GET', url: `/api/executions/${id}/events` })).statusCode,
      404,
    );
    const member = await server.request('member', { method: 'GET', url: `/api/executions/${id}/events` });
    assert.equal(parseSse(member.body).at(-1)?.event, 'end');
  });
});

describe('GET /api/executions/:id/events (live, over a real socket)', () => {
  test('events arrive as they happen, keep-alives flow, the stream closes after end', async () => {
    const id = await newExecution();
    await server.executions.begin(id);
    await server.executions.step(id, 'build', 'running');
    const response = await fetch(`${base}/api/executions/${id}/events`);
    assert.equal(response.status, 200);
    assert.ok(response.body);
    const reader = readSse(response.body);
    const seen: SseEvent[] = [];
    const next = async () => {
      const { value, done } = await reader.next();
      assert.equal(done, false);
      if (value) seen.push(value);
      return value;
    };
    // Replay of what happened before connecting.
    for (let i = 0; i < 3; i++) await next();
    assert.deepEqual(
      seen.map((e) => e.event),
      ['status', 'status', 'step'],
    );
    await new Promise((resolve) => setTimeout(resolve, 120));
    await server.executions.log(id, 'build', 'live line');
    const live = await next();
    assert.equal(live?.event, 'log');
    assert.equal(JSON.parse(live?.data ?? '{}').line.text, 'live line');
    await server.executions.step(id, 'build', 'success');
    await server.executions.finish(id, 'success');
    for await (const event of reader) seen.push(event);
    assert.deepEqual(
      seen.slice(3).map((e) => e.event),
      ['log', 'step', 'end'],
    );
    assert.equal(server.executions.listenerCount(id), 0);
  });

  test('keep-alive comments are sent while nothing happens', async () => {
    const id = await newExecution();
    const controller = new AbortController();
    const response = await fetch(`${base}/api/executions/${id}/events`, { signal: controller.signal });
    assert.ok(response.body);
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of response.body) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes(': keep-alive')) break;
    }
    controller.abort();
    assert.match(text, /^retry: \d+\n\n/);
    assert.match(text, /\n\n: keep-alive\n\n/);
  });

  test('a client that disconnects is unsubscribed; a reconnect with Last-Event-ID misses nothing', async () => {
    const id = await newExecution();
    await server.executions.begin(id);
    await server.executions.step(id, 'build', 'running');
    const controller = new AbortController();
    const first = await fetch(`${base}/api/executions/${id}/events`, { signal: controller.signal });
    assert.ok(first.body);
    const reader = readSse(first.body);
    let lastId = '';
    for (let i = 0; i < 3; i++) lastId = (await reader.next()).value?.id ?? lastId;
    assert.equal(lastId, '3');
    controller.abort();
    await waitFor(() => server.executions.listenerCount(id) === 0);

    await server.executions.log(id, 'build', 'while away');
    await server.executions.step(id, 'build', 'success');
    await server.executions.finish(id, 'success');
    const again = await fetch(`${base}/api/executions/${id}/events`, {
      headers: { 'last-event-id': lastId },
    });
    assert.ok(again.body);
    const resumed: SseEvent[] = [];
    for await (const event of readSse(again.body)) resumed.push(event);
    assert.deepEqual(
      resumed.map((e) => [e.id, e.event]),
      [
        ['4', 'log'],
        ['5', 'step'],
        ['6', 'end'],
      ],
    );
  });

  test('closing the app ends open streams', async () => {
    const other = await startTestServer();
    await other.app.listen({ host: '127.0.0.1', port: 0 });
    const address = other.app.server.address();
    assert.ok(address && typeof address === 'object');
    const id = (
      await other.request('owner', {
        method: 'POST',
        url: '/api/executions',
        payload: { project_id: other.publicProject.id },
      })
    ).json().id;
    const response = await fetch(`http://127.0.0.1:${address.port}/api/executions/${id}/events`);
    assert.ok(response.body);
    const reading = (async () => {
      const events: SseEvent[] = [];
      for await (const event of readSse(response.body as ReadableStream<Uint8Array>)) events.push(event);
      return events;
    })();
    await waitFor(() => other.executions.listenerCount(id) === 1);
    const started = Date.now();
    await other.close();
    const events = await reading;
    assert.ok(Date.now() - started < 5000);
    assert.equal(events[0]?.event, 'status');
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
