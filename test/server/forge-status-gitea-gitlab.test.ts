// Statuses of executions started by Gitea and GitLab webhooks reach local stand-ins of their
// status APIs, each request checked against the shape their docs give
// (test/fixtures/forge-api/).
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.ts';
import type { ExecutionManager } from '../../server/executions/manager.ts';
import { forgeStatusReporter, type StatusReporter } from '../../server/forges/index.ts';
import type { Project, Store } from '../../server/store/index.ts';
import { fixtureValidator } from '../helpers/forge-api.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { type FakeForge, startFakeForge } from './helpers/fake-forge.ts';
import { openFakeManagers, warningsLogger, writePipeline } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();
const fixtureText = (path: string) =>
  readFileSync(new URL(`../fixtures/webhooks/${path}`, import.meta.url), 'utf8');
const PUBLIC_URL = 'https://ci.example.com';

let gitea: FakeForge;
let gitlab: FakeForge;
let store: Store;
let manager: ExecutionManager;
let app: FastifyInstance;
let reporter: StatusReporter;

before(async () => {
  gitea = await startFakeForge(fixtureValidator('gitea-status.json'));
  gitlab = await startFakeForge(fixtureValidator('gitlab-status.json'));
  onCleanup(() => gitea.close());
  onCleanup(() => gitlab.close());
  const { logger } = warningsLogger();
  const managers = await openFakeManagers(await tempDir('gbcms-forges-'), { logger });
  onCleanup(() => managers.close());
  ({ store, manager } = managers);
  reporter = forgeStatusReporter({
    store,
    tokens: { forgeToken: async (_project, forge) => `${forge}-token` },
    publicUrl: PUBLIC_URL,
    urls: { gitea: gitea.url, gitlab: gitlab.url },
    notice: (id, message) => manager.notice(id, message),
    logger,
    retryDelaysMs: [5],
  });
  manager.events.on('status', reporter.observe);
  app = await buildApp({ store, executions: manager, publicUrl: PUBLIC_URL });
  onCleanup(() => app.close());
});

let projects = 0;
async function projectWith(exitCode: number): Promise<Project> {
  projects += 1;
  const pipeline = `version: 1\nsteps:\n  build:\n    image: busybox:stable\n    commands: [make]\n    env:\n      STEP_EXIT_CODE: "${exitCode}"\n`;
  const dir = await writePipeline(await tempDir('gbcms-forges-src-'), pipeline);
  return store.projects.create({ name: `app-${projects}`, repo: dir });
}

async function settled(id: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if ((await store.executions.get(id))?.ended_at) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await reporter.idle();
}

describe('commit statuses to Gitea and GitLab', () => {
  test('a Gitea push posts pending, pending (running), failure to the repository, in its documented shape', async () => {
    const project = await projectWith(1);
    const body = fixtureText('gitea/push.json');
    const response = await app.inject({
      method: 'POST',
      url: `/hooks/gitea/${project.id}`,
      headers: {
        'content-type': 'application/json',
        'x-gitea-event': 'push',
        'x-gitea-delivery': randomUUID(),
        'x-gitea-signature': createHmac('sha256', project.webhook_secret).update(body).digest('hex'),
      },
      payload: body,
    });
    assert.equal(response.statusCode, 202, response.body);
    const id = response.json().execution_id;
    await settled(id);
    const sent = gitea.received.filter((r) => r.body?.target_url === `${PUBLIC_URL}/executions/${id}`);
    assert.deepEqual(
      sent.map((r) => [r.body.state, r.body.description]),
      [
        ['pending', 'queued'],
        ['pending', 'running'],
        ['failure', 'failed'],
      ],
    );
    for (const request of sent) {
      assert.deepEqual(request.problems, []);
      assert.equal(
        request.url,
        '/api/v1/repos/gitea/webhooks/statuses/bffeb74224043ba2feb48d137756c8a9331c449a',
      );
      assert.equal(request.headers.authorization, 'token gitea-token');
      assert.equal(request.body.context, `gbcms/${project.name}`);
    }
  });

  test('a GitLab push posts pending, running, success to the project, in its documented shape', async () => {
    const project = await projectWith(0);
    const response = await app.inject({
      method: 'POST',
      url: `/hooks/gitlab/${project.id}`,
      headers: {
        'content-type': 'application/json',
        'x-gitlab-event': 'Push Hook',
        'x-gitlab-event-uuid': randomUUID(),
        'x-gitlab-token': project.webhook_secret,
      },
      payload: fixtureText('gitlab/push.json'),
    });
    assert.equal(response.statusCode, 202, response.body);
    const id = response.json().execution_id;
    await settled(id);
    const sent = gitlab.received.filter((r) => r.body?.target_url === `${PUBLIC_URL}/executions/${id}`);
    assert.deepEqual(
      sent.map((r) => r.body.state),
      ['pending', 'running', 'success'],
    );
    for (const request of sent) {
      assert.deepEqual(request.problems, []);
      assert.equal(request.url, '/api/v4/projects/15/statuses/da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
      assert.equal(request.headers['private-token'], 'gitlab-token');
      assert.equal(request.body.name, `gbcms/${project.name}`);
    }
  });
});
