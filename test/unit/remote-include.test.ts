// Remote includes against a real HTTPS server on this machine (a certificate made for the
// test): pinned by hash, cached, refused when the hash differs, offline only from the cache,
// and never fetched from loopback, private or metadata addresses unless a test allows it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadPlanInWorker } from '../../engine/load-plan-worker.ts';
import { type LoadedPipeline, readPipeline } from '../../engine/pipeline.ts';
import { refusedAddress } from '../../engine/remote/address-policy.ts';
import { type RemoteIncludeOptions, sha256Of } from '../../engine/remote/remote-include.ts';
import { gbcms } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plans.ts';

const INCLUDED = `templates:
  shell:
    image: alpine:3.20
    env: { ORIGIN: remote }
steps:
  from-remote:
    extends: shell
    commands: [echo remote]
`;
const HASH = sha256Of(Buffer.from(INCLUDED));

describe('the address policy', () => {
  test('refuses loopback, private, link-local, metadata and mapped forms of them', () => {
    for (const address of [
      '127.0.0.1',
      '::1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.100.100.200',
      'fd00:ec2::254',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
      '0.0.0.0',
    ]) {
      assert.match(refusedAddress(address) ?? '', /loopback, private, link-local or metadata/, address);
    }
    for (const address of ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']) {
      assert.equal(refusedAddress(address), undefined, address);
    }
  });

  test('allowing loopback allows loopback only', () => {
    assert.equal(refusedAddress('127.0.0.1', { allowLoopback: true }), undefined);
    assert.equal(refusedAddress('::1', { allowLoopback: true }), undefined);
    assert.ok(refusedAddress('169.254.169.254', { allowLoopback: true }));
    assert.ok(refusedAddress('10.0.0.1', { allowLoopback: true }));
  });
});

describe('remote includes', () => {
  let server: Server;
  let base = '';
  let ca = '';
  let requests = 0;
  const dirs: string[] = [];

  before(async () => {
    const certs = tempDir('gbcms-remote-cert-');
    dirs.push(certs);
    const key = join(certs, 'key.pem');
    const cert = join(certs, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(cert, 'utf8');
    server = createServer({ key: readFileSync(key), cert: ca }, (req, res) => {
      requests++;
      if (req.url === '/ci.yml') return res.end(INCLUDED);
      if (req.url === '/moved.yml') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        return res.end();
      }
      if (req.url === '/big.yml') return res.end(Buffer.alloc(1024 * 1024 + 10, 0x20));
      if (req.url === '/silent.yml') return; // never answers
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function project(url: string, sha256: string): { path: string; cache: string } {
    const dir = tempDir('gbcms-remote-');
    dirs.push(dir);
    const path = join(dir, '.gbcms.yml');
    const text = `version: 1\ninclude:\n  - {url: "${url}", sha256: "${sha256}"}\nsteps:\n  own:\n    extends: shell\n    commands: [echo own]\n`;
    writeFileSync(path, text);
    const cache = join(dir, 'cache');
    mkdirSync(cache);
    return { path, cache };
  }

  const read = (path: string, remote: RemoteIncludeOptions): Promise<LoadedPipeline> =>
    readPipeline(path, '.gbcms.yml', { remote });
  const lines = (loaded: LoadedPipeline) =>
    loaded.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.code}: ${d.message}`);

  test('the pinned file is fetched, joins the pipeline and is cached by its hash', async () => {
    const { path, cache } = project(`${base}/ci.yml`, HASH);
    const loaded = await read(path, { cacheDir: cache, fetch: { allowLoopback: true, ca } });
    assert.deepEqual(lines(loaded), []);
    assert.deepEqual(Object.keys(loaded.config?.steps ?? {}), ['from-remote', 'own']);
    assert.deepEqual(loaded.config?.steps.own?.env, { ORIGIN: 'remote' });
    assert.equal(readFileSync(join(cache, `${HASH}.yml`), 'utf8'), INCLUDED);

    // Offline, the cached copy is enough: nothing is fetched.
    const before = requests;
    const offline = await read(path, { cacheDir: cache, offline: true });
    assert.deepEqual(lines(offline), []);
    assert.equal(requests, before);

    // The server's loader, in its worker thread, reads the same cache.
    const workspace = join(path, '..');
    const trigger = { event: 'manual', branch: 'main', commit: 'abc123' } as const;
    const source = { path, display: '.gbcms.yml', workspace, remote: { cacheDir: cache, offline: true } };
    const inWorker = await loadPlanInWorker(source, { trigger });
    assert.deepEqual(
      inWorker.plan?.steps.map((step) => step.name),
      ['from-remote', 'own'],
    );
    assert.equal(requests, before);
  });

  test('a file whose hash differs is refused where the include is written, and not cached', async () => {
    const wrong = '0'.repeat(64);
    const { path, cache } = project(`${base}/ci.yml`, wrong);
    const loaded = await read(path, { cacheDir: cache, fetch: { allowLoopback: true, ca } });
    assert.deepEqual(lines(loaded).slice(0, 1), [
      `.gbcms.yml:3:5: GBCMS_INCLUDE_HASH: include.0: '${base}/ci.yml' has sha256 ${HASH}, not the pinned ${wrong}; review the file, then pin the new hash`,
    ]);
    assert.equal(loaded.config, undefined);
    assert.equal(existsSync(join(cache, `${wrong}.yml`)), false);
  });

  test('offline, an include not in the cache is refused', async () => {
    const { path, cache } = project(`${base}/ci.yml`, HASH);
    const before = requests;
    const loaded = await read(path, { cacheDir: cache, offline: true });
    assert.match(
      lines(loaded)[0] ?? '',
      /^\.gbcms\.yml:3:5: GBCMS_INCLUDE_OFFLINE: .*--offline forbids fetching it/,
    );
    assert.equal(requests, before);
  });

  test('gbcms run, plan and validate --offline refuse an include not in the cache', async () => {
    const { path, cache } = project(`${base}/ci.yml`, HASH);
    const cwd = join(path, '..');
    const before = requests;
    for (const command of [['run', '--backend', 'local'], ['plan'], ['validate']]) {
      const result = await gbcms([...command, '--offline', '--include-cache', cache], { cwd });
      assert.notEqual(result.code, 0, command.join(' '));
      assert.match(
        result.stdout + result.stderr,
        /\.gbcms\.yml:3:5: error GBCMS_INCLUDE_OFFLINE: include\.0: .* is not in the include cache/,
        command.join(' '),
      );
    }
    assert.equal(requests, before);
  });

  test('the default policy does not even connect to a loopback address', async () => {
    const { path, cache } = project(`${base}/ci.yml`, HASH);
    const before = requests;
    const loaded = await read(path, { cacheDir: cache, fetch: { ca } });
    assert.match(
      lines(loaded)[0] ?? '',
      /GBCMS_INCLUDE_FETCH: include\.0: .* refused: 127\.0\.0\.1 is a loopback/,
    );
    assert.equal(requests, before);
  });

  test('a name that resolves to loopback is refused too', async () => {
    const { path, cache } = project(`${base.replace('127.0.0.1', 'localhost')}/ci.yml`, HASH);
    const loaded = await read(path, { cacheDir: cache, fetch: { ca } });
    assert.match(lines(loaded)[0] ?? '', /GBCMS_INCLUDE_FETCH: .*refused: localhost resolves to .*loopback/);
  });

  test('redirects are not followed, a file over 1 MiB and a silent server are refused', async () => {
    const fetch = { allowLoopback: true, ca, timeoutMs: 500 };
    const cases: [string, RegExp][] = [
      ['moved.yml', /redirect \(302\); redirects are not followed/],
      ['big.yml', /is larger than 1048576 bytes/],
      ['silent.yml', /no answer within 500 ms/],
      ['gone.yml', /answered with HTTP 404/],
    ];
    for (const [file, why] of cases) {
      const { path, cache } = project(`${base}/${file}`, HASH);
      const loaded = await read(path, { cacheDir: cache, fetch });
      assert.match(lines(loaded)[0] ?? '', why, file);
      assert.match(lines(loaded)[0] ?? '', /^\.gbcms\.yml:3:5: GBCMS_INCLUDE_FETCH: /, file);
    }
  });
});
