// What `gbcms serve` prints: JSON lines when stdout is not a terminal (or with --log-format
// json), readable lines with --log-format pretty (and at a terminal), the access log one short
// line per request either way.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { pino } from 'pino';
import { logDestination, resolveLogFormat } from '../../server/cli/log-output.ts';
import { pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { type Served, serveProcess } from './helpers/serve-process.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();
/** The escape that starts a colour code. */
const ESCAPE = '\u001b[';

async function served(args: string[]): Promise<Served> {
  const server = await serveProcess(await tempDir('gbcms-log-format-'), 'local', process.env, [
    '--log-level',
    'info',
    // Every request, reads included: the default logs only writes and failures.
    '--access-log',
    'all',
    ...args,
  ]);
  onCleanup(async () => {
    server.child.kill('SIGKILL');
    await server.exited;
  });
  const answer = await fetch(`${server.url}/healthz?probe=1`);
  assert.equal(answer.status, 200);
  await pollUntil('the access log line', () => server.stdout().includes('/healthz?probe=1'));
  server.child.kill('SIGTERM');
  await server.exited;
  return server;
}

describe('gbcms serve output', () => {
  test('a pipe gets JSON lines, one per record, the access log among them', async () => {
    for (const args of [[], ['--log-format', 'json']]) {
      const server = await served(args);
      const lines = server.stdout().trim().split('\n');
      const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const access = records.find((record) => record.url === '/healthz?probe=1');
      assert.ok(access, `no access line in ${server.stdout()}`);
      assert.equal(access.msg, 'request');
      assert.equal(access.method, 'GET');
      assert.equal(access.statusCode, 200);
      assert.equal(typeof access.responseTime, 'number');
      assert.ok(records.some((record) => record.msg === 'stopped'));
    }
  });

  test('--log-format pretty prints readable lines, an access line per request', async () => {
    const server = await served(['--log-format', 'pretty']);
    const lines = server.stdout().trim().split('\n');
    for (const line of lines) assert.throws(() => JSON.parse(line), `a JSON line: ${line}`);
    // Not a terminal: no colour codes in a file or pipe.
    assert.equal(server.stdout().includes(ESCAPE), false);
    const access = lines.find((line) => line.includes('/healthz?probe=1'));
    assert.match(
      access ?? '',
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: GET \/healthz\?probe=1 200 [\d.]+ ms 127\.0\.0\.1/,
    );
    assert.ok(
      lines.some((line) => /INFO: stopped$/.test(line)),
      server.stdout(),
    );
  });

  test('a terminal gets pretty output, in colour, unless --log-format says otherwise', () => {
    assert.equal(resolveLogFormat('auto', { isTTY: true }), 'pretty');
    assert.equal(resolveLogFormat('auto', { isTTY: false }), 'json');
    assert.equal(resolveLogFormat('auto', {}), 'json');
    assert.equal(resolveLogFormat('json', { isTTY: true }), 'json');
    assert.equal(resolveLogFormat('pretty', { isTTY: false }), 'pretty');

    let written = '';
    const terminal = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          written += chunk.toString();
          done();
        },
      }),
      { isTTY: true },
    );
    const logger = pino({ level: 'info' }, logDestination(resolveLogFormat('auto', terminal), terminal));
    logger.warn({ execution: 'abc' }, 'could not post a status');
    assert.equal(written.includes(ESCAPE), true);
    // Colours aside, one line: time, level, message, the other fields.
    const plain = stripVTControlCharacters(written);
    assert.match(plain, /^\[[^\]]+\] WARN: could not post a status \{"execution":"abc"\}\n$/);
  });

  test('an unknown format is a usage error', async () => {
    const dir = await tempDir('gbcms-log-format-');
    const server = serveProcess(dir, 'local', process.env, ['--log-format', 'xml']);
    await assert.rejects(server, /--log-format must be one of auto, pretty, json, not 'xml'/);
  });
});
