// `gbcms runner --server URL[,URL...]`, without a network: which failures move the runner on to
// its next server (the connection refused, reset, DNS, timeouts, 502/503/504) and which never
// do (an abort by the runner itself, 4xx, other answers); round robin over the list, one switch
// per burst of failures, one URL never switching; the option's parsing and its usage errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateRunnerToken } from '../../server/auth/token-crypto.ts';
import { runnerCommand } from '../../server/cli/runner.ts';
import {
  connectionFailure,
  parseServerUrls,
  ServerList,
  ServerListError,
  statusSwitches,
} from '../../server/runners/agent/server-list.ts';
import { runCommand } from '../helpers/cli.ts';

/** What fetch throws when the socket fails: a TypeError with the socket's error as its cause. */
function fetchFailed(code: string, message = `connect ${code} 127.0.0.1:1`): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

describe('which failures switch servers', () => {
  for (const [code, reason] of [
    ['ECONNREFUSED', 'connection refused'],
    ['ECONNRESET', 'connection reset'],
    ['UND_ERR_SOCKET', 'connection closed'],
    ['ENOTFOUND', 'DNS: name not found'],
    ['EAI_AGAIN', 'DNS: lookup failed'],
    ['ETIMEDOUT', 'timed out'],
    ['UND_ERR_CONNECT_TIMEOUT', 'connect timed out'],
    ['UND_ERR_HEADERS_TIMEOUT', 'timed out waiting for an answer'],
    ['EHOSTUNREACH', 'host unreachable'],
  ] as const) {
    test(`${code} switches, called "${reason}"`, () => {
      assert.equal(connectionFailure(fetchFailed(code)), reason);
    });
  }

  test('a connection refused on every address (an AggregateError) switches', () => {
    const both = Object.assign(
      new AggregateError([
        Object.assign(new Error('connect ECONNREFUSED ::1:1'), { code: 'ECONNREFUSED' }),
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      ]),
      { code: 'ECONNREFUSED' },
    );
    assert.equal(connectionFailure(new TypeError('fetch failed', { cause: both })), 'connection refused');
    const noCode = new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]);
    assert.equal(connectionFailure(new TypeError('fetch failed', { cause: noCode })), 'connection refused');
  });

  test('an answer cut off mid-body ("terminated", the socket closed) switches', () => {
    const terminated = new TypeError('terminated', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    assert.equal(connectionFailure(terminated), 'connection closed');
  });

  test('a timeout signal switches; the runner aborting its own call does not', () => {
    assert.equal(connectionFailure(new DOMException('timed out', 'TimeoutError')), 'timed out');
    assert.equal(connectionFailure(new DOMException('aborted', 'AbortError')), undefined);
  });

  test('errors that are not the network do not switch', () => {
    assert.equal(connectionFailure(new SyntaxError('Unexpected token < in JSON')), undefined);
    assert.equal(connectionFailure(new TypeError('fetch failed')), undefined);
    assert.equal(connectionFailure(fetchFailed('EACCES')), undefined);
    assert.equal(connectionFailure('ECONNREFUSED'), undefined);
    assert.equal(connectionFailure(undefined), undefined);
  });

  test('502, 503 and 504 switch; 4xx and other answers never do', () => {
    for (const status of [502, 503, 504]) assert.equal(statusSwitches(status), true, String(status));
    for (const status of [200, 204, 400, 401, 403, 404, 409, 413, 429, 500, 501, 505]) {
      assert.equal(statusSwitches(status), false, String(status));
    }
  });
});

describe('the server list', () => {
  const A = 'http://a.example:8080';
  const B = 'http://b.example:8080';
  const C = 'https://c.example';

  test('starts with the first and goes round robin, one line per switch', () => {
    const lines: string[] = [];
    const list = new ServerList([A, B, C], (line) => lines.push(line));
    assert.equal(list.current, A);
    assert.equal(list.failed(A, 'connection refused'), true);
    assert.equal(list.current, B);
    assert.equal(list.failed(B, '503 Service Unavailable'), true);
    assert.equal(list.current, C);
    assert.equal(list.failed(C, 'timed out'), true);
    assert.equal(list.current, A, 'back to the first after the last');
    assert.deepEqual(lines, [
      `server ${A} did not answer (connection refused); now using ${B}`,
      `server ${B} did not answer (503 Service Unavailable); now using ${C}`,
      `server ${C} did not answer (timed out); now using ${A}`,
    ]);
  });

  test('calls that failed on a server already left switch nothing', () => {
    const lines: string[] = [];
    const list = new ServerList([A, B, C], (line) => lines.push(line));
    // Three calls under way on A when it went: the first moves the list on, the others do not.
    assert.equal(list.failed(A, 'connection reset'), true);
    assert.equal(list.failed(A, 'connection reset'), false);
    assert.equal(list.failed(A, 'connection reset'), false);
    assert.equal(list.current, B, 'B is not skipped');
    assert.equal(lines.length, 1);
  });

  test('with one URL nothing ever switches nor is logged', () => {
    const lines: string[] = [];
    const list = new ServerList([A], (line) => lines.push(line));
    assert.equal(list.failed(A, 'connection refused'), false);
    assert.equal(list.current, A);
    assert.deepEqual(lines, []);
  });

  test('trailing slashes are dropped; an empty list is refused', () => {
    assert.deepEqual(new ServerList([`${A}/`, `${B}//`]).urls, [A, B]);
    assert.throws(() => new ServerList([]), ServerListError);
  });
});

describe('--server URL[,URL...]', () => {
  test('one URL or several, comma-separated, in order', () => {
    assert.deepEqual(parseServerUrls('http://ci:8080'), ['http://ci:8080']);
    assert.deepEqual(parseServerUrls('http://ci:8080/'), ['http://ci:8080']);
    assert.deepEqual(parseServerUrls('http://b:1,https://a/gbcms, http://c:2'), [
      'http://b:1',
      'https://a/gbcms',
      'http://c:2',
    ]);
  });

  test('every URL is checked as one alone is', () => {
    assert.throws(() => parseServerUrls(undefined), /--server must be the http:\/\/ or https:\/\/ URL/);
    assert.throws(() => parseServerUrls('ci:8080'), /--server must be the http:\/\/ or https:\/\/ URL/);
    assert.throws(
      () => parseServerUrls('http://a:1,ftp://b'),
      /--server: 'ftp:\/\/b' is not the http:\/\/ or https:\/\/ URL of a gbcms server/,
    );
    assert.throws(() => parseServerUrls('http://a:1,'), /--server: '' is not the http/);
    assert.throws(() => parseServerUrls('http://a:1,,http://b:2'), /--server: '' is not the http/);
  });

  test('a server named twice is refused, naming the option', () => {
    assert.throws(
      () => parseServerUrls('http://a:1,http://b:2,http://a:1'),
      /^ServerListError: --server names http:\/\/a:1 twice$/,
    );
    assert.throws(
      () => parseServerUrls('http://A:80/,http://a'),
      /--server names one server twice: http:\/\/A:80\/ and http:\/\/a/,
    );
  });

  const options = ['--token', generateRunnerToken(), '--backend', 'local'];
  test('the runner refuses duplicates and bad URLs as usage errors (exit 2)', async () => {
    for (const [server, message] of [
      ['http://127.0.0.1:1,http://127.0.0.1:1', /--server names http:\/\/127\.0\.0\.1:1 twice/],
      ['http://127.0.0.1:1,nope', /--server: 'nope' is not the http/],
      ['nope', /--server must be the http:\/\/ or https:\/\/ URL of a gbcms server/],
    ] as const) {
      const result = await runCommand(runnerCommand, ['--server', server, ...options], {
        cwd: process.cwd(),
      });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
    }
  });

  test('the help shows the list and when the runner switches', async () => {
    const result = await runCommand(runnerCommand, ['--help'], { cwd: process.cwd() });
    assert.equal(result.code, 0);
    assert.match(result.stdout, /usage: gbcms runner --server URL\[,URL\.\.\.\]/);
    assert.match(result.stdout, /--server URL\[,URL\.\.\.\]\n.*several servers/);
    assert.match(result.stdout, /round robin/);
    assert.match(result.stdout, /502\/503\/504; never on a 4xx answer/);
  });
});
