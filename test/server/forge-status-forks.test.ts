// What the forge is told about a fork's pull request that waits for approval: a GitHub stand-in
// on 127.0.0.1 (requests checked against GitHub's OpenAPI description) receives pending
// "waiting for approval" while it is blocked, then the usual states once a member approves it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.ts';
import type { ExecutionManager } from '../../server/executions/manager.ts';
import { forgeStatusReporter, type StatusReporter } from '../../server/forges/index.ts';
import type { Store } from '../../server/store/index.ts';
import { signBody } from '../../server/webhooks/signature.ts';
import { githubStatusValidator } from '../helpers/forge-api.ts';
import { pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { type FakeForge, startFakeForge } from './helpers/fake-forge.ts';
import { openFakeManagers, warningsLogger, writePipeline } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();
const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{
  name: string;
  examples: Array<Record<string, unknown>>;
}>;
const PUBLIC_URL = 'https://ci.example.com';

let forge: FakeForge;
let store: Store;
let manager: ExecutionManager;
let app: FastifyInstance;
let reporter: StatusReporter;

before(async () => {
  forge = await startFakeForge(githubStatusValidator());
  onCleanup(() => forge.close());
  const { logger } = warningsLogger();
  const managers = await openFakeManagers(await tempDir('gbcms-forge-forks-'), { logger });
  onCleanup(() => managers.close());
  ({ store, manager } = managers);
  reporter = forgeStatusReporter({
    store,
    tokens: { forgeToken: async (_project, kind) => (kind === 'github' ? 'ghp_test_token' : undefined) },
    publicUrl: PUBLIC_URL,
    urls: { githubApi: forge.url },
    notice: (id, message) => manager.notice(id, message),
    logger,
    retryDelaysMs: [5, 5],
  });
  manager.events.on('status', reporter.observe);
  app = await buildApp({ store, executions: manager, publicUrl: PUBLIC_URL });
  onCleanup(() => app.close());
});

/** A fork's pull request whose head repository is cloned from the project's own source. */
function forkPullRequest(): string {
  const pr = structuredClone(
    examples.find((e) => e.name === 'pull_request')?.examples.find((p) => p.action === 'synchronize'),
  ) as {
    repository: { clone_url: string };
    pull_request: { head: { repo: { full_name: string; clone_url: string } } };
  };
  pr.pull_request.head.repo.full_name = 'forker/Hello-World';
  pr.pull_request.head.repo.clone_url = pr.repository.clone_url;
  return JSON.stringify(pr);
}

describe('commit statuses of a fork pull request that waits for approval', () => {
  test('pending "waiting for approval", then queued, running and passed once approved', async () => {
    const dir = await writePipeline(
      await tempDir('gbcms-forge-forks-src-'),
      'version: 1\nsteps:\n  build:\n    image: busybox:stable\n    commands: [make]\n',
    );
    const project = await store.projects.create({ name: 'forked', repo: dir, visibility: 'public' });
    const body = forkPullRequest();
    const response = await app.inject({
      method: 'POST',
      url: `/hooks/github/${project.id}`,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'pull_request',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': signBody(project.webhook_secret, body),
      },
      payload: body,
    });
    assert.equal(response.statusCode, 202, response.body);
    const id: string = response.json().execution_id;
    await reporter.idle();
    const statuses = () =>
      forge.received
        .filter((r) => r.body?.target_url === `${PUBLIC_URL}/executions/${id}`)
        .map((r) => [r.body.state, r.body.description]);
    assert.deepEqual(statuses(), [['pending', 'waiting for approval']]);

    assert.equal((await manager.approve(id, 'member'))?.status, 'pending');
    await pollUntil('the execution to end', async () => (await store.executions.get(id))?.ended_at);
    await reporter.idle();
    // A state still waiting when a newer one arrives is dropped (status-reporter.ts): queued
    // and running may be, the first and the last never are.
    const order = ['waiting for approval', 'queued', 'running', 'passed'];
    const sent = statuses();
    assert.deepEqual(sent[0], ['pending', 'waiting for approval']);
    assert.deepEqual(sent.at(-1), ['success', 'passed']);
    const positions = sent.map(([, description]) => order.indexOf(String(description)));
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      JSON.stringify(sent),
    );
    assert.ok(!positions.includes(-1), JSON.stringify(sent));
    assert.deepEqual(
      forge.received.flatMap((r) => r.problems),
      [],
    );
  });
});
