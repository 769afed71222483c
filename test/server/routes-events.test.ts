// GET /api/executions/:id/events through the real routes, the real ExecutionManager and store,
// on the fake backend (steps steered by their env): the live stream of a running execution,
// the replay of an ended one rebuilt from the store (stored-replay.ts), resuming with
// Last-Event-ID, and who may watch. Every sequence asserted here is one the product defines:
// one step at a time (depends_on), stdout only, so no two things race.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPLAY_FIRST_ID } from '../../server/executions/stored-replay.ts';
import type { Project } from '../../server/store/index.ts';
import { beforeHang } from '../helpers/hang.ts';
import { HANG_MS, pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { type ExternalServer, startExternalServer } from './helpers/external-server.ts';
import { writePipeline } from './helpers/fake-managers.ts';
import { parseSse, readSse, type SseEvent } from './helpers/sse.ts';

const { tempDir } = cleanUpAfterAll();

const RED = '\\e[31m<b>red</b>\\e[0m';

/** build prints three lines and keeps an artifact, then test prints a line and a metric. */
const TWO_STEPS = `version: 1
steps:
  build:
    image: busybox:stable
    commands: [make]
    artifacts: [out.txt]
    env:
      STEP_OUTPUT: "one\\n${RED}\\nthree\\n"
  test:
    image: busybox:stable
    commands: [check]
    depends_on: [build]
    env:
      STEP_OUTPUT: "ok\\n::gbcms metric name=score value=7\\n"
`;

/** build prints three lines, then runs until terminated. */
const RUNS_UNTIL_TERMINATED = `version: 1
steps:
  build:
    image: busybox:stable
    commands: [make]
    env:
      STEP_OUTPUT: "one\\n${RED}\\nthree\\n"
      STEP_SLEEP_MS: "${10 * HANG_MS}"
`;

let projects = 0;
async function projectOn(
  server: ExternalServer,
  pipeline: string,
  visibility: 'public' | 'private' = 'public',
): Promise<Project> {
  projects += 1;
  const project = await server.store.projects.create({
    name: `events-${projects}`,
    repo: await writePipeline(await tempDir('gbcms-events-src-'), pipeline),
    visibility,
    owner_id: server.users.owner.id,
  });
  if (visibility === 'private') await server.store.projects.addMember(project.id, server.users.member.id);
  return project;
}

async function startOn(server: ExternalServer, project: Project): Promise<string> {
  const started = await server.api<{ id: string }>('owner', 'POST', '/api/executions', {
    project_id: project.id,
  });
  assert.equal(started.status, 201);
  return started.body.id;
}

async function terminate(server: ExternalServer, id: string): Promise<void> {
  assert.equal((await server.api('owner', 'POST', `/api/executions/${id}/terminate`)).status, 200);
}

/** The stream of an execution through app.inject, with `headers`: resolves once the stream has closed. */
function injectEvents(server: ExternalServer, id: string, headers: Record<string, string> = {}, query = '') {
  return server.app.inject({ method: 'GET', url: `/api/executions/${id}/events${query}`, headers });
}

/** One line per event: its type and what it is about. */
function describeEvent(event: SseEvent): string {
  const data = JSON.parse(event.data);
  switch (event.event) {
    case 'status':
    case 'end':
      return `${event.event} ${data.execution.status}`;
    case 'step':
      return `step ${data.step.name} ${data.step.status}`;
    case 'log':
      return `log ${data.step} ${data.line.stream} ${data.line.text}`;
    case 'artifact':
      return `artifact ${data.artifact.path}`;
    case 'report':
      return `report ${data.step} ${data.seq} ${data.report.type} ${data.report.name}`;
    default:
      return event.event;
  }
}

const ESC = '\u001b';
const RED_TEXT = `${ESC}[31m<b>red</b>${ESC}[0m`;

describe('GET /api/executions/:id/events (live, over a real socket)', () => {
  let server: ExternalServer;
  before(async () => {
    server = await startExternalServer({}, { sseKeepAliveMs: 50 });
  });
  after(() => server.close());

  test('what happened is replayed, what happens next arrives live, the stream closes after end', async () => {
    const id = await startOn(server, await projectOn(server, RUNS_UNTIL_TERMINATED));
    const response = await fetch(`${server.url}/api/executions/${id}/events`);
    assert.equal(response.status, 200);
    assert.match(String(response.headers.get('content-type')), /^text\/event-stream/);
    assert.equal(response.headers.get('cache-control'), 'no-cache, no-transform');
    assert.ok(response.body);
    const reader = readSse(response.body);
    const seen: SseEvent[] = [];
    // Up to the last line build prints: it now sleeps until terminated.
    while (seen.at(-1)?.data.includes('"text":"three"') !== true) {
      const { value, done } = await beforeHang(reader.next(), 'the first events');
      assert.equal(done, false, `the stream closed early after ${seen.map(describeEvent)}`);
      if (value) seen.push(value);
    }
    assert.deepEqual(seen.map(describeEvent), [
      'status pending',
      'status running',
      'step build running',
      'log build stdout one',
      `log build stdout ${RED_TEXT}`,
      'log build stdout three',
    ]);

    // Nothing below exists yet: it can only reach this client live.
    await terminate(server, id);
    const rest = await beforeHang(
      (async () => {
        const events: SseEvent[] = [];
        for await (const event of reader) events.push(event);
        return events;
      })(),
      'the live events',
    );
    assert.deepEqual(rest.map(describeEvent), ['step build killed', 'end killed']);
    assert.deepEqual(
      [...seen, ...rest].map((event) => event.id),
      ['1', '2', '3', '4', '5', '6', '7', '8'],
    );
    const end = JSON.parse(rest.at(-1)?.data ?? '{}');
    assert.equal(end.execution.reason, 'terminated by user');
    assert.equal('logs_dir' in end.execution, false);
    assert.equal(end.execution.logs, `/api/executions/${id}/logs`);
  });

  test('keep-alive comments are sent while nothing happens', async () => {
    const id = await startOn(server, await projectOn(server, RUNS_UNTIL_TERMINATED));
    const controller = new AbortController();
    const response = await fetch(`${server.url}/api/executions/${id}/events`, { signal: controller.signal });
    assert.ok(response.body);
    const decoder = new TextDecoder();
    let text = '';
    await beforeHang(
      (async () => {
        for await (const chunk of response.body as ReadableStream<Uint8Array>) {
          text += decoder.decode(chunk, { stream: true });
          if (text.includes(': keep-alive')) break;
        }
      })(),
      'a keep-alive',
    );
    controller.abort();
    assert.match(text, /^retry: 3000\n\n/);
    assert.match(text, /\n\n: keep-alive\n\n/);
    await terminate(server, id);
  });

  test('a client that disconnects is let go; a reconnect with Last-Event-ID misses nothing', async () => {
    const id = await startOn(server, await projectOn(server, RUNS_UNTIL_TERMINATED));
    const closed = () => server.logLines.filter((line) => line.includes('"event stream closed"')).length;
    const closedBefore = closed();
    const controller = new AbortController();
    const first = await fetch(`${server.url}/api/executions/${id}/events`, { signal: controller.signal });
    assert.ok(first.body);
    const reader = readSse(first.body);
    const seen: SseEvent[] = [];
    for (let i = 0; i < 3; i++) {
      const { value } = await beforeHang(reader.next(), 'the first events');
      if (value) seen.push(value);
    }
    assert.deepEqual(seen.map(describeEvent), ['status pending', 'status running', 'step build running']);
    controller.abort();
    // The server notices the client left and closes its side of the stream.
    await pollUntil('the server to close the stream', () => closed() === closedBefore + 1);

    await terminate(server, id);
    const again = await injectEvents(server, id, { 'last-event-id': seen.at(-1)?.id ?? '' });
    assert.deepEqual(
      parseSse(again.body).map((event) => `${event.id} ${describeEvent(event)}`),
      [
        '4 log build stdout one',
        `5 log build stdout ${RED_TEXT}`,
        '6 log build stdout three',
        '7 step build killed',
        '8 end killed',
      ],
    );
  });

  test('closing the app ends open streams', async () => {
    const other = await startExternalServer();
    let closed = false;
    try {
      const id = await startOn(other, await projectOn(other, RUNS_UNTIL_TERMINATED));
      const response = await fetch(`${other.url}/api/executions/${id}/events`);
      assert.ok(response.body);
      const reader = readSse(response.body);
      const firstEvent = await beforeHang(reader.next(), 'the first event');
      assert.equal(firstEvent.value?.event, 'status');
      const rest = (async () => {
        const events: SseEvent[] = [];
        for await (const event of reader) events.push(event);
        return events;
      })();
      await other.close();
      closed = true;
      const events = await beforeHang(rest, 'the stream after the app closed');
      assert.ok(!events.some((event) => event.event === 'end'), 'closed by the server, not ended');
    } finally {
      if (!closed) await other.close();
    }
  });
});

describe('GET /api/executions/:id/events (an ended execution, replayed from the store)', () => {
  let server: ExternalServer;
  before(async () => {
    // Ended streams are dropped at once: every ended execution is replayed from the store.
    server = await startExternalServer({ endedStreamMs: 0 });
  });
  after(() => server.close());

  /** Runs TWO_STEPS to its end, and waits until its live stream is gone. */
  async function ended(visibility: 'public' | 'private' = 'public'): Promise<string> {
    const id = await startOn(server, await projectOn(server, TWO_STEPS, visibility));
    const live = await beforeHang(
      injectEvents(server, id, { authorization: `Bearer ${server.tokens.owner}` }),
      'the run',
    );
    assert.equal(parseSse(live.body).at(-1)?.event, 'end');
    // The live stream is retired by a 0 ms timer set as `end` went out; this one fires after it.
    await sleep(1);
    return id;
  }

  const REPLAY = [
    'status success',
    'step build success',
    'step test success',
    'log build stdout one',
    `log build stdout ${RED_TEXT}`,
    'log build stdout three',
    'log build system artifact build/out.txt (52 bytes)',
    'log test stdout ok',
    'log test stdout ::gbcms metric name=score value=7',
    'report test 1 metric score',
    'artifact build/out.txt',
    'end success',
  ];
  const replayIds = (from: number) => REPLAY.slice(from).map((_, i) => String(REPLAY_FIRST_ID + from + i));

  test('status, steps, each step’s lines then its reports, artifacts, end; ids from REPLAY_FIRST_ID', async () => {
    const id = await ended();
    const response = await injectEvents(server, id);
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    const events = parseSse(response.body);
    assert.deepEqual(events.map(describeEvent), REPLAY);
    assert.deepEqual(
      events.map((event) => event.id),
      replayIds(0),
    );
    const again = parseSse((await injectEvents(server, id)).body);
    assert.deepEqual(again, events, 'the same stored execution gives the same events and ids');

    const end = JSON.parse(events.at(-1)?.data ?? '{}');
    assert.equal(end.execution.status, 'success');
    assert.equal('logs_dir' in end.execution, false);
    assert.equal(end.execution.logs, `/api/executions/${id}/logs`);
  });

  test('log events carry the line and an escaped, coloured html rendering', async () => {
    const id = await ended();
    const logs = parseSse((await injectEvents(server, id)).body)
      .filter((event) => event.event === 'log')
      .map((event) => JSON.parse(event.data));
    const red = logs[1];
    assert.equal(red.step, 'build');
    assert.equal(red.line.seq, 2);
    assert.equal(red.line.text, RED_TEXT);
    assert.match(red.html, /^<span style="color:#[0-9A-Fa-f]+">&lt;b&gt;red&lt;\/b&gt;<\/span>$/);
    assert.doesNotMatch(red.html, /<b>/);
    const report = logs.find((log) => log.line.text.startsWith('::gbcms'));
    assert.equal(report?.line.report, true);
  });

  /**
   * The events of a stream asked for with ?log_batches=true, each `logs` event unpacked into
   * its lines (described as describeEvent would, with their html for text), each with the id of
   * the event that carried it: how lines are split into batches is the server's business.
   */
  function unbatched(body: string): { id: string | undefined; what: string }[] {
    return parseSse(body).flatMap((event) => {
      if (event.event !== 'logs') return [{ id: event.id, what: describeEvent(event) }];
      const { step, lines } = JSON.parse(event.data) as {
        step: string;
        lines: { stream: string; html: string }[];
      };
      return lines.map((line) => ({ id: event.id, what: `log ${step} ${line.stream} ${line.html}` }));
    });
  }

  test('?log_batches=true: the same lines, several per event, each event with its last line’s id', async () => {
    const id = await ended();
    const expected = REPLAY.map((what) =>
      what.replace(RED_TEXT, '<span style="color:#ff7b72">&lt;b&gt;red&lt;/b&gt;</span>'),
    );
    const events = unbatched((await injectEvents(server, id, {}, '?log_batches=true')).body);
    assert.deepEqual(
      events.map((event) => event.what),
      expected,
    );
    // An event's id is that of the last thing it carries: resuming after it repeats nothing.
    events.forEach((event, i) => {
      if (events[i + 1]?.id !== event.id) assert.equal(event.id, replayIds(0)[i], `event ${i}`);
    });
    const resumed = unbatched(
      (await injectEvents(server, id, { 'last-event-id': String(REPLAY_FIRST_ID + 4) }, '?log_batches=true'))
        .body,
    );
    assert.deepEqual(
      resumed.map((event) => event.what),
      expected.slice(5),
    );
  });

  test('Last-Event-ID and ?after= resume after that event; the header wins', async () => {
    const id = await ended();
    const ids = (body: string) => parseSse(body).map((event) => event.id);
    const afterQuery = await injectEvents(server, id, {}, `?after=${REPLAY_FIRST_ID + 8}`);
    assert.deepEqual(ids(afterQuery.body), replayIds(9));
    const afterHeader = await injectEvents(
      server,
      id,
      { 'last-event-id': String(REPLAY_FIRST_ID + 5) },
      `?after=${REPLAY_FIRST_ID + 1}`,
    );
    assert.deepEqual(ids(afterHeader.body), replayIds(6));
    assert.deepEqual(parseSse(afterHeader.body).map(describeEvent), REPLAY.slice(6));
  });

  test('a client that saw the end gets it again; an id from the live stream gets the whole replay', async () => {
    const id = await ended();
    const endId = String(REPLAY_FIRST_ID + REPLAY.length - 1);
    const sawEnd = parseSse((await injectEvents(server, id, { 'last-event-id': endId })).body);
    assert.deepEqual(
      sawEnd.map((event) => `${event.id} ${describeEvent(event)}`),
      [`${endId} end success`],
    );
    // Event 5 of the live stream, from before the stream was dropped: not a place in the replay.
    const fromLive = parseSse((await injectEvents(server, id, { 'last-event-id': '5' })).body);
    assert.deepEqual(fromLive.map(describeEvent), REPLAY);
  });

  test('private executions: 404 to strangers and anonymous callers, the replay to members', async () => {
    const id = await ended('private');
    for (const who of ['stranger', 'anonymous'] as const) {
      const headers: Record<string, string> =
        who === 'anonymous' ? {} : { authorization: `Bearer ${server.tokens[who]}` };
      const response = await injectEvents(server, id, headers);
      assert.equal(response.statusCode, 404, who);
      assert.equal(response.json().error, 'GBCMS_ERR_EXECUTION_NOT_FOUND', who);
      assert.deepEqual(parseSse(response.body), [], `${who} sees no event`);
    }
    const member = await injectEvents(server, id, { authorization: `Bearer ${server.tokens.member}` });
    assert.equal(member.statusCode, 200);
    assert.deepEqual(parseSse(member.body).map(describeEvent), REPLAY);
  });

  test('an unknown execution is 404', async () => {
    const response = await injectEvents(server, 'no-such-execution');
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error, 'GBCMS_ERR_EXECUTION_NOT_FOUND');
  });
});
