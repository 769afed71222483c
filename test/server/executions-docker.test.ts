import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { LABEL_MANAGED, LABEL_RUN, LABEL_STEP } from '../../engine/backends/docker/labels.ts';
import { readLogFile } from '../../engine/logs/log-line.ts';
import { ExecutionManager } from '../../server/executions/manager.ts';
import { ENGINE_RESTARTED } from '../../server/executions/recovery.ts';
import { type Execution, openStore, type Project, type Store } from '../../server/store/index.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { ADA, commitAll, gitAs } from '../helpers/git.ts';
import { beforeHang } from '../helpers/hang.ts';
import { HANG_MS } from '../helpers/poll.ts';
import { collectEvents } from './helpers/collect-events.ts';

const PIPELINE = `version: 1
name: docker-demo
steps:
  build:
    image: busybox:stable
    commands:
      - echo "building version $(cat VERSION)"
      - mkdir -p dist && echo built > dist/result.txt
    artifacts: [dist/result.txt]
  test:
    image: busybox:stable
    depends_on: [build]
    commands:
      - echo "the build left $(cat dist/result.txt)"
  wait:
    image: busybox:stable
    depends_on: [test]
    when:
      branch: slow
    commands:
      - echo sleeping
      - sleep ${(10 * HANG_MS) / 1000}
`;

describe('execution manager on Docker', await dockerTestOptions(), () => {
  let root: string;
  let dataDir: string;
  let store: Store;
  let manager: ExecutionManager;
  let project: Project;
  let commit: string;
  const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

  const containersOf = async (runId: string) =>
    docker.listContainers({ all: true, filters: { label: [`${LABEL_RUN}=${runId}`] } });
  // While a run goes on, the workspace's seed container may still be on its way out.
  const stepContainersOf = async (runId: string) =>
    docker.listContainers({ all: true, filters: { label: [`${LABEL_RUN}=${runId}`, 'gbcms.role=step'] } });

  const collect = (id: string) => collectEvents(manager, id);

  before(async () => {
    await ensureBusyboxImage();
    root = await mkdtemp(join(tmpdir(), 'gbcms-exec-docker-'));
    dataDir = join(root, 'data');
    const origin = join(root, 'origin.git');
    const work = join(root, 'work');
    const git = gitAs(ADA);
    git(root, 'init', '-q', '--bare', origin);
    await mkdir(work);
    git(work, 'init', '-q');
    await writeFile(join(work, '.gbcms.yml'), PIPELINE);
    await writeFile(join(work, 'VERSION'), '1.2.3\n');
    commit = commitAll(git, work, 'Build with busybox');
    git(work, 'push', '-q', origin, 'HEAD:refs/heads/main', 'HEAD:refs/heads/slow');

    store = await openStore(dataDir);
    project = await store.projects.create({ name: 'docker-demo', repo: origin, max_concurrent: 2 });
    manager = new ExecutionManager({
      store,
      backend: new DockerBackend({ logger }),
      dataDir,
      logger,
      graceMs: 1000,
    });
  });

  after(async () => {
    await manager?.drain(0);
    await store?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('a commit of a local bare repository runs in containers; steps, logs and artifacts are kept', async () => {
    const execution = await manager.start({
      project,
      trigger: { event: 'push', branch: 'main' },
      source: { kind: 'project' },
    });
    const events = await collect(execution.id);
    const final = events.at(-1);
    assert.equal(final?.type, 'end');
    assert.equal(final.execution.status, 'success', JSON.stringify(events.filter((e) => e.type === 'log')));
    assert.equal(final.execution.commit_sha, commit);
    assert.equal(final.execution.message, 'Build with busybox');
    assert.ok(events.some((e) => e.type === 'log' && e.line.text === 'building version 1.2.3'));

    const steps = await store.steps.list(execution.id);
    assert.deepEqual(
      steps.map((s) => [s.name, s.status]),
      [
        ['build', 'success'],
        ['test', 'success'],
        ['wait', 'skipped'],
      ],
    );
    const testLog = await readLogFile(join(dataDir, execution.logs_dir, steps[1]?.log ?? ''));
    assert.ok(
      testLog.some((l) => l.text === 'the build left built'),
      JSON.stringify(testLog),
    );
    const artifacts = await store.artifacts.list(execution.id);
    assert.deepEqual(
      artifacts.map((a) => [a.step, a.path, a.size]),
      [['build', 'build/dist/result.txt', 6]],
    );
    const environments = await store.environments.listByExecution(execution.id);
    assert.ok(environments.every((e) => e.destroyed_at !== null));
    assert.deepEqual(await containersOf(execution.id), []);
    // Each step that ran names its container and pins the image by id; the container is gone now.
    const busyboxId = (await docker.getImage(BUSYBOX_IMAGE).inspect()).Id;
    const stepRows = environments.filter((e) => e.step !== null);
    assert.deepEqual(stepRows.map((e) => e.step).sort(), ['build', 'test']);
    for (const row of stepRows) {
      assert.equal(row.type, 'docker');
      assert.match(row.container_id ?? '', /^[0-9a-f]{64}$/);
      assert.equal(row.image, busyboxId);
      await assert.rejects(docker.getContainer(row.container_id ?? '').inspect(), { statusCode: 404 });
    }
    assert.notEqual(stepRows[0]?.container_id, stepRows[1]?.container_id);
    const shared = environments.filter((e) => e.step === null);
    assert.deepEqual(
      shared.map((e) => e.container_id),
      [null],
    );
  });

  test("the container id in a step's environment row is the container Docker ran the step in", async () => {
    const execution = await manager.start({
      project,
      trigger: { event: 'push', branch: 'slow' },
      source: { kind: 'project' },
    });
    let seen: Docker.ContainerInfo[] = [];
    await new Promise<void>((resolve, reject) => {
      manager
        .subscribe(execution.id, (event) => {
          if (event.type === 'log' && event.step === 'wait' && event.line.text === 'sleeping') {
            stepContainersOf(execution.id).then((found) => {
              seen = found;
              resolve();
            }, reject);
          }
          if (event.type === 'end')
            reject(new Error(`ended before the wait step slept: ${event.execution.reason}`));
        })
        .catch(reject);
    });
    const rows = await store.environments.listByExecution(execution.id);
    const wait = rows.find((e) => e.step === 'wait');
    assert.equal(wait?.destroyed_at, null);
    // The steps after `wait` may already have a container waiting at its gate (warm steps).
    assert.deepEqual(
      seen.filter((c) => c.Labels[LABEL_STEP] === 'wait').map((c) => [c.Id, c.ImageID, c.Labels[LABEL_STEP]]),
      [[wait?.container_id, wait?.image, 'wait']],
    );
    await manager.terminate(execution.id);
    await assert.rejects(docker.getContainer(wait?.container_id ?? '').inspect(), { statusCode: 404 });
    const ended = await store.environments.listByExecution(execution.id);
    assert.ok(ended.every((e) => e.destroyed_at !== null));
  });

  test('terminate stops the running container and resolves once it is removed', async () => {
    const execution = await manager.start({
      project,
      trigger: { event: 'push', branch: 'slow' },
      source: { kind: 'project' },
    });
    await new Promise<void>((resolve, reject) => {
      manager
        .subscribe(execution.id, (event) => {
          if (event.type === 'log' && event.step === 'wait' && event.line.text === 'sleeping') resolve();
          if (event.type === 'end')
            reject(new Error(`ended before the wait step slept: ${event.execution.reason}`));
        })
        .catch(reject);
    });
    // The step before it may still be on its way out: count the sleeping step's own.
    const sleeping = (await stepContainersOf(execution.id)).filter((c) => c.Labels[LABEL_STEP] === 'wait');
    assert.equal(sleeping.length, 1);
    // The step sleeps ten times the hang limit: terminate resolves only because it stops it.
    const result = await beforeHang(manager.terminate(execution.id), 'terminate');
    assert.equal(result?.execution_id, execution.id);
    assert.equal((await store.executions.get(execution.id))?.status, 'killed');
    assert.deepEqual(await containersOf(execution.id), []);
  });

  test('recover removes the containers of an execution a crashed server left running', async () => {
    const crashed: Execution = await store.executions.create({
      project_id: project.id,
      trigger: { event: 'push', branch: 'main' },
    });
    await store.executions.setStarted(crashed.id);
    const container = await docker.createContainer({
      Image: BUSYBOX_IMAGE,
      Cmd: ['sleep', '600'],
      Labels: { [LABEL_RUN]: crashed.id, [LABEL_MANAGED]: 'true' },
      HostConfig: { NetworkMode: 'none' },
    });
    await container.start();
    assert.equal((await containersOf(crashed.id)).length, 1);

    const restarted = new ExecutionManager({
      store,
      backend: new DockerBackend({ logger }),
      dataDir,
      logger,
    });
    const report = await restarted.recover();
    assert.deepEqual(report.failed, [crashed.id]);
    assert.deepEqual(await containersOf(crashed.id), []);
    const row = await store.executions.get(crashed.id);
    assert.equal(row?.status, 'error');
    assert.equal(row?.reason, ENGINE_RESTARTED);
  });
});
