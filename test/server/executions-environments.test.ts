import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FakeBackend } from '../../engine/backends/fake.ts';
import type { RunEvent } from '../../engine/events.ts';
import { runPipeline } from '../../engine/run.ts';
import type { EventBody } from '../../server/executions/event-shapes.ts';
import { RunRecorder } from '../../server/executions/recorder.ts';
import { openStore } from '../../server/store/index.ts';
import { planOf, tempDir } from '../helpers/plans.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Runs a plan on the fake backend with a recorder listening, as the execution manager does. */
async function recordedRun(plan: ReturnType<typeof planOf>) {
  const dataDir = tempDir('gbcms-env-rec-');
  dirs.push(dataDir);
  const store = await openStore(dataDir);
  const project = await store.projects.create({ name: 'environments', repo: dataDir });
  const execution = await store.executions.create({ project_id: project.id, trigger: plan.trigger });
  const published: EventBody[] = [];
  const events: RunEvent[] = [];
  const errors: unknown[] = [];
  const recorder = new RunRecorder({
    store,
    execution,
    plan,
    runDir: join(dataDir, 'runs', execution.id),
    environmentType: 'local',
    logger: { info: () => undefined, warn: () => undefined, error: (details) => errors.push(details) },
    publish: (body) => published.push(body),
    onStatus: () => undefined,
    onStepEnded: () => undefined,
  });
  await runPipeline(plan, {
    backend: new FakeBackend(),
    runsDir: join(dataDir, 'runs'),
    id: execution.id,
    observer: (event) => {
      events.push(event);
      recorder.observe(event);
    },
  });
  await recorder.finish();
  const environments = await store.environments.listByExecution(execution.id);
  await store.close();
  return { environments, published, events, errors };
}

describe('environment rows carry the container a step ran in', () => {
  test("each step's row gets the container the backend created for it, and is destroyed after", async () => {
    const plan = planOf({
      build: { image: 'busybox:stable', commands: ['run'] },
      flaky: { image: 'alpine:3', commands: ['run'], retries: 2, env: { STEP_FAIL_ATTEMPTS: '1' } },
      later: { image: 'busybox:stable', commands: ['run'], when: { branch: 'other' } },
    });
    const { environments, published, events, errors } = await recordedRun(plan);
    assert.deepEqual(errors, []);

    // Steps run concurrently: only each step's own attempts are in order.
    assert.deepEqual(
      events
        .flatMap((e) => (e.type === 'environment' ? [`${e.step} ${e.container_id} ${e.image}`] : []))
        .sort(),
      ['build fake-build-1 busybox:stable', 'flaky fake-flaky-1 alpine:3', 'flaky fake-flaky-2 alpine:3'],
    );
    // One row per container (a retry is a new container), the run's own row without one.
    const rows = environments
      .map((e) => [e.step, e.container_id, e.image, e.type])
      .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    assert.deepEqual(rows, [
      ['build', 'fake-build-1', 'busybox:stable', 'local'],
      ['flaky', 'fake-flaky-1', 'alpine:3', 'local'],
      ['flaky', 'fake-flaky-2', 'alpine:3', 'local'],
      [null, null, null, 'local'],
    ]);
    assert.ok(environments.every((e) => e.destroyed_at !== null));
    const [first, second] = ['fake-flaky-1', 'fake-flaky-2'].map((id) =>
      environments.find((e) => e.container_id === id),
    );
    assert.ok(first?.destroyed_at && second);
    assert.ok(first.destroyed_at <= second.created_at, 'the first attempt ended before the retry began');

    // Internal bookkeeping: live viewers never see container ids.
    assert.ok(published.length > 0);
    assert.ok(published.every((body) => !JSON.stringify(body).includes('fake-')));
  });

  test('a step whose container was never created keeps its row, without a container', async () => {
    const plan = planOf({
      broken: { image: 'busybox:stable', commands: ['run'], env: { STEP_START_ERROR: 'no engine' } },
    });
    const { environments, events } = await recordedRun(plan);
    assert.equal(
      events.some((e) => e.type === 'environment'),
      false,
    );
    const broken = environments.filter((e) => e.step === 'broken');
    // The step went running before its start failed: its row exists, with no container.
    assert.deepEqual(
      broken.map((e) => e.container_id),
      [null],
    );
    assert.ok(broken.every((e) => e.destroyed_at !== null));
  });
});

describe('store: environments.setContainer', () => {
  test('fills in the container and image of one row, and says when there is no such row', async () => {
    const dataDir = tempDir('gbcms-env-store-');
    dirs.push(dataDir);
    const store = await openStore(dataDir);
    try {
      const project = await store.projects.create({ name: 'p', repo: dataDir });
      const execution = await store.executions.create({
        project_id: project.id,
        trigger: { event: 'manual' },
      });
      const row = await store.environments.record({
        execution_id: execution.id,
        step: 'build',
        type: 'docker',
        image: 'busybox:stable',
      });
      const other = await store.environments.record({ execution_id: execution.id, type: 'docker' });
      assert.equal(await store.environments.setContainer(row.id, 'abc123', 'sha256:feed'), true);
      assert.equal(await store.environments.setContainer('no-such-row', 'x', 'y'), false);
      const rows = await store.environments.listByExecution(execution.id);
      assert.deepEqual(rows.find((e) => e.id === row.id)?.container_id, 'abc123');
      assert.deepEqual(rows.find((e) => e.id === row.id)?.image, 'sha256:feed');
      assert.equal(rows.find((e) => e.id === other.id)?.container_id, null);
    } finally {
      await store.close();
    }
  });
});
