import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { realpathSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hookCommand } from '../../server/cli/hook.ts';
import { installPostReceiveHook } from '../../server/git/hook-install.ts';
import { notifyPush, parseReceiveInput } from '../../server/git/hook-notify.ts';
import { GBCMS_SIGNATURE_HEADER, verifySignature } from '../../server/webhooks/signature.ts';
import { hookRepos, HOOK_SECRET as SECRET } from './helpers/hook-repos.ts';

const { root, git, env: GIT_ENV, bareRepo, memoryIO, remove } = hookRepos('gbcms-hook-notify-');

interface Recorded {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function startRecorder(reply: { status: number; body: string }): Promise<{
  url: string;
  requests: Recorded[];
  close: () => Promise<void>;
}> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Stands in for bin/gbcms.js: runs hookCommand the way bin/main.ts dispatches `hook`. */
function writeLauncher(): string {
  const launcher = join(root, 'launch-hook.mjs');
  const tsx = import.meta.resolve('tsx/esm/api');
  const hook = new URL('../../server/cli/hook.ts', import.meta.url).href;
  writeFileSync(
    launcher,
    `const { register } = await import(${JSON.stringify(tsx)});
register();
const { hookCommand } = await import(${JSON.stringify(hook)});
process.exitCode = await hookCommand(process.argv.slice(3), {
  stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(),
});
`,
  );
  return launcher;
}

after(remove);

describe('a real push through the installed hook', () => {
  let launcher: string;
  before(() => {
    launcher = writeLauncher();
  });

  async function setUp(url: string) {
    const repo = bareRepo();
    await installPostReceiveHook(
      repo,
      { url, project: 'team/web', secret: SECRET },
      { command: [process.execPath, launcher] },
    );
    const clone = join(root, `clone-${basename(repo, '.git')}`);
    git(root, 'clone', '-q', repo, clone);
    writeFileSync(join(clone, 'a.txt'), 'a\n');
    git(clone, 'add', '.');
    git(clone, 'commit', '-q', '-m', 'first');
    return { repo, clone };
  }

  // Asynchronous: the recording server answers from this process's event loop.
  function push(clone: string, ...refspecs: string[]): Promise<{ status: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn('git', ['push', 'origin', ...refspecs], { cwd: clone, env: GIT_ENV });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('close', (status) => resolve({ status, stderr }));
    });
  }

  test('notifies the server once per updated ref, signed, and shows its answer to the pusher', async () => {
    const server = await startRecorder({ status: 202, body: '{"number":7}' });
    try {
      const { repo, clone } = await setUp(server.url);
      git(clone, 'tag', 'v1');
      git(clone, 'branch', 'old');
      assert.equal((await push(clone, 'old')).status, 0);
      server.requests.length = 0;

      const result = await push(clone, 'main', 'v1', ':old');
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /remote: gbcms: queued execution #7 for refs\/heads\/main/);
      assert.match(result.stderr, /remote: gbcms: queued execution #7 for refs\/tags\/v1/);

      const head = git(clone, 'rev-parse', 'HEAD');
      const bodies = server.requests.map((r) => JSON.parse(r.body) as Record<string, string>);
      // The deletion of `old` sends nothing.
      assert.deepEqual(bodies.map((b) => b.ref).sort(), ['refs/heads/main', 'refs/tags/v1']);
      const main = server.requests.find((r) => r.body.includes('refs/heads/main'));
      assert.ok(main);
      const { delivery, ...notification } = JSON.parse(main.body);
      assert.deepEqual(notification, {
        ref: 'refs/heads/main',
        before: '0'.repeat(40),
        after: head,
        repository: realpathSync(repo),
        pusher: 'grace',
      });
      // One delivery id per ref and push.
      assert.match(delivery, /^[0-9a-f]{64}$/);
      assert.equal(new Set(bodies.map((b) => b.delivery)).size, bodies.length);
      assert.equal(main.url, '/hooks/git/team%2Fweb');
      assert.equal(main.headers['content-type'], 'application/json');
      assert.equal(
        main.headers['x-gbcms-wait'],
        '5',
        'the server may hold its answer for the pipeline check',
      );
      const signature = main.headers[GBCMS_SIGNATURE_HEADER];
      assert.equal(await verifySignature(SECRET, main.body, signature), true);
      assert.equal(await verifySignature('another secret', main.body, signature), false);
    } finally {
      await server.close();
    }
  });

  test('reports a refusal from the server', async () => {
    const server = await startRecorder({ status: 401, body: '{"message":"bad signature\\u001b[31m"}' });
    try {
      const { clone } = await setUp(server.url);
      const result = await push(clone, 'main');
      assert.equal(result.status, 0);
      assert.match(
        result.stderr,
        /remote: gbcms: server refused refs\/heads\/main with HTTP 401: bad signature\?\[31m/,
      );
    } finally {
      await server.close();
    }
  });

  test('the push succeeds when the server is down', async () => {
    const server = await startRecorder({ status: 202, body: '{}' });
    await server.close();
    const { repo, clone } = await setUp(server.url);
    const result = await push(clone, 'main');
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stderr,
      /remote: gbcms: could not notify http:\/\/127\.0\.0\.1:\d+\/hooks\/git\/team%2Fweb for refs\/heads\/main: ECONNREFUSED/,
    );
    assert.equal(git(repo, 'rev-parse', 'main'), git(clone, 'rev-parse', 'HEAD'));
  });
});

describe('hook notify pieces', () => {
  const A = 'a'.repeat(40);
  const B = 'b'.repeat(40);
  const Z = '0'.repeat(40);

  test('parseReceiveInput reads ref lines and reports the rest', () => {
    assert.deepEqual(parseReceiveInput(`${A} ${B} refs/heads/main\n${Z} ${A} refs/tags/v1\ngarbage\n\n`), {
      refs: [
        { before: A, after: B, ref: 'refs/heads/main' },
        { before: Z, after: A, ref: 'refs/tags/v1' },
      ],
      problems: ['cannot read hook input line garbage'],
    });
  });

  test('stops waiting on a server that does not answer', async () => {
    const server = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const lines: string[] = [];
    try {
      await notifyPush(
        {
          gitDir: '/srv/repo.git',
          refs: [
            { before: A, after: B, ref: 'refs/heads/main' },
            { before: A, after: Z, ref: 'refs/heads/gone' },
            { before: A, after: B, ref: 'refs/heads/next' },
          ],
          pusher: 'p',
          settings: { url: `http://127.0.0.1:${port}`, project: 'p', secret: 's' },
          timeoutMs: 300,
        },
        (line) => lines.push(line),
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /no answer from .* within 0.3 s for refs\/heads\/main/);
    assert.match(lines[1] ?? '', /not notified for refs\/heads\/next: the server did not answer/);
  });

  test('notify without settings says so and exits 0', async () => {
    const repo = bareRepo();
    const { io, stderr } = memoryIO({ GIT_DIR: repo }, `${Z} ${A} refs/heads/main\n`);
    assert.equal(await hookCommand(['notify'], io), 0);
    assert.match(stderr(), /hook not configured.*gbcms\.url, gbcms\.project, gbcms\.secret missing/);
  });
});
