// Commit statuses for a bare repository that mirrors a GitHub one, end to end: `gbcms serve` as
// a process of its own on a real Docker engine, the project's status settings (the git hook's
// forge repository, per-step statuses) set over the API, `gbcms hook install`, then real
// `git push`es. A local GitHub stand-in checks every status request against GitHub's OpenAPI
// description. Also: a re-run reports to the same commit, and SIGTERM waits for the statuses
// still queued to go out.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { openStore } from '../../server/store/index.ts';
import { ensureBusyboxImage } from '../helpers/build-images.ts';
import { gbcms } from '../helpers/cli.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { githubStatusValidator } from '../helpers/forge-api.ts';
import { pollUntil } from '../helpers/poll.ts';
import { type FakeForge, type ReceivedStatus, startFakeForge } from './helpers/fake-forge.ts';

const exec = promisify(execFile);
const git = (cwd: string, ...args: string[]) =>
  exec('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', ...args], { cwd });
const bin = join(import.meta.dirname, '..', '..', 'bin', 'gbcms.js');

const PUBLIC_URL = 'https://ci.example.com';
const TOKEN = 'ghp_mirror_token';
const MIRRORED = 'octo-org/app';

const PIPELINE = `version: 1
steps:
  build:
    image: busybox:stable
    commands: [echo built]
  test:
    image: busybox:stable
    depends_on: [build]
    commands: [echo tested]
`;

interface Served {
  url: string;
  child: ChildProcess;
  exited: Promise<unknown[]>;
  output(): string;
}

async function serve(data: string, forgeUrl: string): Promise<Served> {
  const child = spawn(
    process.execPath,
    [
      bin,
      'serve',
      '--port',
      '0',
      '--data',
      data,
      '--backend',
      'docker',
      '--public-url',
      PUBLIC_URL,
      '--github-api-url',
      forgeUrl,
    ],
    { env: { ...process.env, GBCMS_GITHUB_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit');
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const url = await pollUntil('the server to listen', () => {
    if (gone) throw new Error(`gbcms serve ended before it listened:\n${text}`);
    return /listening on (http:\/\/\S+)/.exec(text)?.[1];
  });
  return { url, child, exited, output: () => text };
}

/** `context state description` of each request for `sha`, in arrival order. */
function statusesFor(forge: FakeForge, sha: string, context?: string): ReceivedStatus[] {
  return forge.received.filter(
    (r) =>
      r.url === `/repos/${MIRRORED}/statuses/${sha}` && (context === undefined || r.body.context === context),
  );
}

describe(
  'git push to a hooked mirror reports commit statuses to its GitHub repository',
  await dockerTestOptions(),
  () => {
    let dir: string;
    let token: string;
    let forge: FakeForge;
    let server: Served;
    let projectId: string;
    let work: string;
    // A JSON content type only with a body: the server refuses an empty one.
    const headers = (init: RequestInit) => ({
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    });

    before(async () => {
      await ensureBusyboxImage();
      dir = await mkdtemp(join(tmpdir(), 'gbcms-mirror-'));
      const store = await openStore(join(dir, 'data'));
      const admin = await store.users.create({ username: 'admin', role: 'admin' });
      token = (await store.tokens.create(admin.id, 'e2e')).token;
      await store.close();
      forge = await startFakeForge(githubStatusValidator());
      server = await serve(join(dir, 'data'), forge.url);
    });

    after(async () => {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await forge.close();
      await rm(dir, { recursive: true, force: true });
    });

    async function push(message: string): Promise<string> {
      await writeFile(join(work, 'message.txt'), `${message}\n`);
      await git(work, 'add', '.');
      await git(work, 'commit', '-q', '-m', message);
      await git(work, 'push', '-q', 'origin', 'main');
      return (await git(work, 'rev-parse', 'HEAD')).stdout.trim();
    }

    async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
      const response = await fetch(`${server.url}${path}`, { ...init, headers: headers(init) });
      return { status: response.status, body: (await response.json()) as T };
    }

    /** `success`, or the whole execution when it ended otherwise (the assertion then shows why). */
    async function ended(executionId: string): Promise<string> {
      return pollUntil(`execution ${executionId} to end`, async () => {
        const { body } = await api<{ status: string }>(`/api/executions/${executionId}`);
        if (['pending', 'running'].includes(body.status)) return undefined;
        return body.status === 'success' ? body.status : JSON.stringify(body);
      });
    }

    test('a push posts pending then success for the execution, and one status per step', async () => {
      const bare = join(dir, 'app.git');
      await exec('git', ['init', '-q', '--bare', '-b', 'main', bare]);
      const created = await api<{ id: string; webhook_secret: string }>('/api/projects', {
        method: 'POST',
        body: JSON.stringify({ name: 'app', repo: bare }),
      });
      assert.equal(created.status, 201);
      projectId = created.body.id;

      // A typo is refused at once, saying which field and why.
      const refused = await api<{ message: string }>(`/api/projects/${projectId}/status-settings`, {
        method: 'PATCH',
        body: JSON.stringify({ forge: 'github', forge_repo: 'octo-org' }),
      });
      assert.equal(refused.status, 400);
      assert.match(refused.body.message, /forge_repo must be owner\/name, not "octo-org"/);
      const set = await api<object>(`/api/projects/${projectId}/status-settings`, {
        method: 'PATCH',
        body: JSON.stringify({ forge: 'github', forge_repo: MIRRORED, step_statuses: true }),
      });
      assert.equal(set.status, 200);
      assert.deepEqual(set.body, { step_statuses: true, forge: 'github', forge_repo: MIRRORED });

      const install = await gbcms(
        [
          'hook',
          'install',
          bare,
          '--url',
          server.url,
          '--project',
          projectId,
          '--secret',
          created.body.webhook_secret,
        ],
        { cwd: dir },
      );
      assert.equal(install.code, 0, install.stderr);
      work = join(dir, 'work');
      await exec('git', ['clone', '-q', bare, work]);
      await git(work, 'checkout', '-q', '-b', 'main');
      await writeFile(join(work, '.gbcms.yml'), PIPELINE);
      const sha = await push('first');

      const list = await api<{ items: { id: string }[] }>(`/api/projects/${projectId}/executions`);
      const id = list.body.items[0]?.id as string;
      assert.equal(await ended(id), 'success');
      const page = `${PUBLIC_URL}/executions/${id}`;
      const own = await pollUntil('the final status', () => {
        const posted = statusesFor(forge, sha, 'gbcms/app');
        return posted.at(-1)?.body.state === 'success' ? posted : undefined;
      });
      // Queued, then (unless the forge was still busy with `queued`) running, then passed; all linked.
      assert.deepEqual(own[0]?.body, {
        state: 'pending',
        description: 'queued',
        context: 'gbcms/app',
        target_url: page,
      });
      assert.ok(own.slice(0, -1).every((r) => r.body.state === 'pending'));
      assert.deepEqual(own.at(-1)?.body, {
        state: 'success',
        description: 'passed',
        context: 'gbcms/app',
        target_url: page,
      });
      for (const step of ['build', 'test']) {
        const posted = await pollUntil(
          `the status of step ${step}`,
          () => statusesFor(forge, sha, `gbcms/app/${step}`)[0],
        );
        assert.deepEqual(posted.body, {
          state: 'success',
          description: 'passed',
          context: `gbcms/app/${step}`,
          target_url: page,
        });
      }
      for (const request of forge.received) {
        assert.deepEqual(request.problems, [], JSON.stringify(request.body));
        assert.equal(request.headers.authorization, `token ${TOKEN}`);
      }

      // A re-run reports to the same commit, linking the new execution.
      const rerun = await api<{ id: string }>(`/api/executions/${id}/rerun`, { method: 'POST' });
      assert.equal(rerun.status, 201);
      assert.equal(await ended(rerun.body.id), 'success');
      const again = await pollUntil('the re-run final status', () => {
        const posted = statusesFor(forge, sha, 'gbcms/app').filter(
          (r) => r.body.target_url === `${PUBLIC_URL}/executions/${rerun.body.id}`,
        );
        return posted.at(-1)?.body.state === 'success' ? posted : undefined;
      });
      assert.equal(again[0]?.body.state, 'pending');
      assert.ok(forge.received.every((r) => r.problems.length === 0));
    });

    test('SIGTERM waits for the statuses still queued before the server exits', async () => {
      assert.ok(work, 'needs the project of the first test');
      // The stand-in keeps the `running` status of the next commit unanswered: the final one
      // waits behind it in its queue until the server is shutting down, its store still open
      // only if it waits for its statuses.
      forge.holdWhen = (r) => r.body.context === 'gbcms/app' && r.body.description === 'running';
      const sha = await push('second');
      const held = await pollUntil('the running status to arrive', () =>
        forge.held.find((h) => h.request.url.endsWith(`/statuses/${sha}`)),
      );
      forge.holdWhen = undefined;
      server.child.kill('SIGTERM');
      // Executions drained and the HTTP server closed: what is left is the queued statuses.
      await pollUntil('the server to stop answering', () =>
        fetch(`${server.url}/health`).then(
          () => false,
          () => true,
        ),
      );
      held.answer(201);
      const [code] = await server.exited;
      assert.equal(code, 0, server.output());
      const posted = statusesFor(forge, sha, 'gbcms/app').map((r) => [r.body.state, r.answer]);
      assert.deepEqual(posted.at(-1), ['success', 201], JSON.stringify(posted));
      assert.ok(forge.received.every((r) => r.problems.length === 0));
    });
  },
);
