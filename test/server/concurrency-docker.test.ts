// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use the ${{ NAME }} syntax
// Concurrency groups on the server, on the real Docker engine: executions of a project in one
// group take turns. With cancel_in_progress the newer one ends the older (`killed`, the reason
// naming the newer); without it the newer waits `pending`, the reason on its row, out of the
// slot line (another execution of the project queued after it runs first), and runs once the
// older one ended. All with the project's default max_concurrent of 1: an execution reads its
// file, and so its group, before it waits for the project's slot.
// Steps of one group take turns across the project's executions the same way.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { LABEL_RUN } from '../../engine/backends/docker/labels.ts';
import { ExecutionManager } from '../../server/executions/manager.ts';
import { type Execution, openStore, type Project, type Store } from '../../server/store/index.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { ADA, commitAll, type Git, gitAs } from '../helpers/git.ts';
import { beforeHang } from '../helpers/hang.ts';
import { HANG_MS, pollUntil } from '../helpers/poll.ts';
import { collectEvents } from './helpers/collect-events.ts';

/** Long enough that only a hang would see the step end by itself. */
const FOREVER_S = (10 * HANG_MS) / 1000;

/** A pipeline in `concurrency` (YAML flow mapping) whose one step runs `command`. */
function pipeline(concurrency: string, command: string, stepConcurrency = ''): string {
  return [
    'version: 1',
    'name: deploys',
    `concurrency: ${concurrency}`,
    'steps:',
    '  deploy:',
    `    image: ${BUSYBOX_IMAGE}`,
    ...(stepConcurrency ? [`    concurrency: ${stepConcurrency}`] : []),
    `    commands: ["echo deploy-${'$'}GBCMS_EXECUTION_NUMBER", "${command}"]`,
    '',
  ].join('\n');
}

describe('concurrency groups on the server, with Docker', await dockerTestOptions(), () => {
  let root: string;
  let store: Store;
  let manager: ExecutionManager;
  let project: Project;
  let git: Git;
  let work: string;
  let origin: string;
  const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

  /** Commits `file` as the pipeline and pushes it to `branch`; returns the commit. */
  async function pushPipeline(branch: string, file: string): Promise<string> {
    await writeFile(join(work, '.gbcms.yml'), file);
    const commit = commitAll(git, work, `pipeline for ${branch}`);
    git(work, 'push', '-q', '--force', origin, `HEAD:refs/heads/${branch}`);
    return commit;
  }

  function start(branch: string, commit: string, on = project): Promise<Execution> {
    return manager.start({
      project: on,
      trigger: { event: 'push', branch, commit },
      source: { kind: 'project' },
    });
  }

  const row = async (id: string) => {
    const found = await store.executions.get(id);
    assert.ok(found, `execution ${id}`);
    return found;
  };
  const ended = (id: string) => beforeHang(collectEvents(manager, id), `execution ${id} to end`);
  const stepContainers = (id: string) =>
    docker.listContainers({ all: true, filters: { label: [`${LABEL_RUN}=${id}`, 'gbcms.role=step'] } });

  before(async () => {
    await ensureBusyboxImage();
    root = await mkdtemp(join(tmpdir(), 'gbcms-concurrency-docker-'));
    origin = join(root, 'origin.git');
    work = join(root, 'work');
    git = gitAs(ADA);
    git(root, 'init', '-q', '--bare', origin);
    await mkdir(work);
    git(work, 'init', '-q');
    store = await openStore(join(root, 'data'));
    // One at a time, the default: the newer execution cancels the older without a second slot.
    project = await store.projects.create({ name: 'deploys', repo: origin });
    assert.equal(project.max_concurrent, 1);
    manager = new ExecutionManager({
      store,
      backend: new DockerBackend({ logger }),
      dataDir: join(root, 'data'),
      logger,
      graceMs: 1000,
    });
  });

  after(async () => {
    await manager?.drain(0);
    await store?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('cancel_in_progress: the newer execution ends the older one, killed with a reason naming it', async () => {
    const group = '{group: "deploy-${{ branch }}", cancel_in_progress: true}';
    const slow = await pushPipeline('main', pipeline(group, `sleep ${FOREVER_S}`));
    const first = await start('main', slow);
    await pollUntil(
      'the first deploy to run in a container',
      async () => (await stepContainers(first.id)).length > 0,
    );
    assert.equal((await row(first.id)).concurrency_group, 'deploy-main');

    const fast = await pushPipeline('main', pipeline(group, 'echo done'));
    const second = await start('main', fast);
    const firstEnd = (await ended(first.id)).at(-1);
    assert.equal(firstEnd?.type, 'end');
    assert.equal(firstEnd.execution.status, 'killed');
    assert.equal(
      firstEnd.execution.reason,
      `cancelled by execution #${second.number} in concurrency group deploy-main`,
    );
    const [deploy] = await store.steps.list(first.id);
    assert.equal(deploy?.status, 'killed');

    const secondEnd = (await ended(second.id)).at(-1);
    assert.equal(secondEnd?.type, 'end');
    assert.equal(secondEnd.execution.status, 'success');
    assert.equal(secondEnd.execution.concurrency_group, 'deploy-main');
    assert.deepEqual(await stepContainers(first.id), []);
  });

  test('without it the newer one waits pending with a reason, out of the slot line, and runs after the older', async () => {
    const group = '{group: "queue-${{ event }}"}';
    const slow = await pushPipeline('queue-slow', pipeline(group, `sleep ${FOREVER_S}`));
    const fast = await pushPipeline('queue-fast', pipeline(group, 'echo done'));
    const free = await pushPipeline('free', pipeline('{group: "elsewhere"}', 'echo free'));
    const first = await start('queue-slow', slow);
    await pollUntil(
      'the first to run in a container',
      async () => (await stepContainers(first.id)).length > 0,
    );

    const second = await start('queue-fast', fast);
    const waitingReason = `waiting for execution #${first.number} in concurrency group queue-push`;
    const waiting = await pollUntil('the second to wait for its turn', async () => {
      const current = await row(second.id);
      return current.reason === waitingReason && current;
    });
    assert.equal(waiting.status, 'pending');
    assert.equal(waiting.started_at, null);
    assert.deepEqual(await stepContainers(second.id), []);
    const events: string[] = [];
    const secondDone = collectEvents(manager, second.id, undefined, (event) => {
      if (event.type === 'status') events.push(`${event.execution.status}: ${event.execution.reason ?? ''}`);
    });

    // Queued after the waiting one, it is next for the slot: the waiting one is out of the line.
    const other = await start('free', free);
    const otherDone = ended(other.id);
    await pollUntil('the other to read its group', async () => (await row(other.id)).concurrency_group);
    assert.equal((await row(other.id)).status, 'pending');
    assert.equal((await row(second.id)).status, 'pending');

    await manager.terminate(first.id);
    const otherEnd = (await otherDone).at(-1);
    assert.equal(otherEnd?.type, 'end');
    assert.equal(otherEnd.execution.status, 'success');
    const secondEnd = (await beforeHang(secondDone, 'the second to end')).at(-1);
    assert.equal(secondEnd?.type, 'end');
    assert.equal(secondEnd.execution.status, 'success');
    assert.equal(secondEnd.execution.reason, null);
    // It started once the older one's step had ended (the older execution's row ends just after).
    const [olderStep] = await store.steps.list(first.id);
    assert.equal(olderStep?.status, 'killed');
    assert.ok(
      olderStep?.ended_at &&
        secondEnd.execution.started_at &&
        olderStep.ended_at <= secondEnd.execution.started_at,
    );
    assert.ok(events.includes(`running: `), events.join('\n'));
    assert.ok(
      otherEnd.execution.ended_at &&
        secondEnd.execution.started_at &&
        otherEnd.execution.ended_at <= secondEnd.execution.started_at,
      'the other, ahead in the slot line, ran first',
    );
  });

  test('steps of one group take turns across executions of the project', async () => {
    const stepGroup = '{group: "database"}';
    const slow = await pushPipeline(
      'steps-slow',
      pipeline('{group: "a-${{ commit }}"}', `sleep ${FOREVER_S}`, stepGroup),
    );
    const fast = await pushPipeline(
      'steps-fast',
      pipeline('{group: "b-${{ commit }}"}', 'echo done', stepGroup),
    );
    // Two executions of the project run at once here: only their steps share a group.
    const both = await store.projects.create({ name: 'two-at-a-time', repo: origin, max_concurrent: 2 });
    const first = await start('steps-slow', slow, both);
    await pollUntil('the first step to run', async () => (await stepContainers(first.id)).length > 0);
    const second = await start('steps-fast', fast, both);
    const reason = `waiting for step 'deploy' of execution #${first.number} in concurrency group database`;
    await pollUntil("the second execution's step to wait", async () => {
      const [step] = await store.steps.list(second.id);
      return step?.status === 'pending' && step.reason === reason;
    });
    // The execution itself runs: only its step waits.
    assert.equal((await row(second.id)).status, 'running');
    assert.deepEqual(await stepContainers(second.id), []);
    await manager.terminate(first.id);
    const secondEnd = (await ended(second.id)).at(-1);
    assert.equal(secondEnd?.type === 'end' && secondEnd.execution.status, 'success');
  });
});
