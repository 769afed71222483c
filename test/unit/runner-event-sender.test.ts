// A runner whose events the server refuses (its lease is not this runner's any more) gives the
// run up, saying why, rather than running on with nothing delivered; a server that does not
// answer (503) is tried again, and the events go out once it answers; an artifact it refuses
// becomes a notice saying so.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunEvent } from '../../engine/events.ts';
import { RunnerClient } from '../../server/runners/agent/client.ts';
import { EventSender } from '../../server/runners/agent/event-sender.ts';
import { pollUntil } from '../helpers/poll.ts';

const line: RunEvent = {
  type: 'log',
  step: 'build',
  line: { seq: 1, time: '2026-12-06T10:00:00.000Z', stream: 'stdout', text: 'hello' },
};

/** A server answering each events call with what `answer` says. */
async function fakeServer(
  t: { after(fn: () => Promise<void>): void },
  answer: (
    call: number,
    request: { method: string; url: string; body: string },
  ) => {
    status: number;
    body: unknown;
  },
) {
  let calls = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const asked = {
        method: request.method ?? '',
        url: request.url ?? '',
        body: Buffer.concat(chunks).toString(),
      };
      const { status, body } = answer(++calls, asked);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-sender-'));
  t.after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, dir, calls: () => calls };
}

/** An EventSender to `url`, and the reasons it gave the run up for. */
function senderTo(url: string, dir: string) {
  const reasons: string[] = [];
  const sender = new EventSender({
    client: new RunnerClient(url, 'token'),
    id: 'x',
    runDir: join(dir, 'run'),
    spillFile: join(dir, 'spill.jsonl'),
    giveUp: (why) => reasons.push(why),
  });
  return { sender, reasons };
}

test('events the server refuses give the run up, saying why', async (t) => {
  const { url, dir } = await fakeServer(t, () => ({
    status: 404,
    body: { error: 'GBCMS_ERR_LEASE_NOT_HELD', message: 'this runner holds no lease on that execution' },
  }));
  const { sender, reasons } = senderTo(url, dir);
  sender.push(line);
  await pollUntil('the sender to give up', () => reasons.length > 0);
  await sender.drained();
  await sender.stop();
  assert.equal(reasons.length, 1);
  assert.match(reasons[0] ?? '', /^the server refused its events: .*holds no lease/);
});

test('a server that does not answer yet is tried again, and nothing is given up', async (t) => {
  const { url, dir, calls } = await fakeServer(t, (call) =>
    call < 3
      ? { status: 503, body: { error: 'GBCMS_ERR_PEER_UNAVAILABLE', message: 'retry' } }
      : { status: 200, body: { received: 1 } },
  );
  const { sender, reasons } = senderTo(url, dir);
  sender.push(line);
  await sender.drained();
  await sender.stop();
  assert.equal(calls(), 3);
  assert.deepEqual(reasons, []);
});

test('an artifact the server refuses is sent as a notice in its place, and the run goes on', async (t) => {
  const posted: unknown[][] = [];
  let puts = 0;
  const { url, dir } = await fakeServer(t, (_call, request) => {
    if (request.method === 'PUT') {
      puts++;
      return {
        status: 413,
        body: { error: 'GBCMS_ERR_BODY_TOO_LARGE', message: 'the body is larger than this server accepts' },
      };
    }
    posted.push((JSON.parse(request.body) as { events: unknown[] }).events);
    // The first batch's answer is lost: it is sent again, the notice still in the artifact's place.
    return posted.length === 1
      ? { status: 503, body: { error: 'GBCMS_ERR_UNAVAILABLE', message: 'retry' } }
      : { status: 200, body: { received: 2 } };
  });
  await mkdir(join(dir, 'run', 'artifacts', 'build'), { recursive: true });
  await writeFile(join(dir, 'run', 'artifacts', 'build', 'big.bin'), 'x'.repeat(1000));
  const { sender, reasons } = senderTo(url, dir);
  sender.push(line);
  sender.push({
    type: 'artifact',
    artifact: { step: 'build', path: 'build/big.bin', size: 1000, sha256: 'f'.repeat(64) },
  });
  await sender.drained();
  await sender.stop();
  assert.deepEqual(reasons, []);
  assert.equal(puts, 1, 'uploaded once');
  assert.equal(posted.length, 2);
  for (const events of posted) {
    const [first, second] = events as [RunEvent, { type: string; step: string; message: string }];
    assert.deepEqual(first, line);
    assert.equal(second.type, 'notice');
    assert.equal(second.step, 'build');
    assert.match(second.message, /^artifact build\/big\.bin was not kept: .*413 the body is larger/);
  }
});
