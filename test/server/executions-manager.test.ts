import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readLogFile } from '../../engine/logs/log-line.ts';
import { describeError } from '../../server/errors.ts';
import { ShuttingDownError } from '../../server/executions/errors.ts';
import {
  type ExecutionManager,
  type ExecutionManagerOptions,
  SHUT_DOWN,
  type StepEnded,
  TERMINATED_BY_USER,
} from '../../server/executions/manager.ts';
import { ENGINE_RESTARTED } from '../../server/executions/recovery.ts';
import type { StepEvents } from '../../server/plugins/metrics.ts';
import { executionHttpError } from '../../server/routes/execution-errors.ts';
import { type Execution, NotFoundError, type Project, type Store } from '../../server/store/index.ts';
import { GRACE, gitAs } from '../helpers/git.ts';
import { beforeHang } from '../helpers/hang.ts';
import { HANG_MS, pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { collectEvents as collect } from './helpers/collect-events.ts';
import { openFakeManagers, writePipeline } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();

interface Harness {
  dataDir: string;
  store: Store;
  manager: ExecutionManager;
  logged: { level: string; message: string; details: object }[];
  newManager(options?: Partial<ExecutionManagerOptions>): ExecutionManager;
}

async function harness(options: Partial<ExecutionManagerOptions> = {}): Promise<Harness> {
  const dataDir = await tempDir('gbcms-exec-data-');
  const logged: Harness['logged'] = [];
  const log = (level: string) => (details: object, message: string) =>
    logged.push({ level, message, details });
  const logger = { info: log('info'), warn: log('warn'), error: log('error') };
  const { store, manager, newManager, close } = await openFakeManagers(dataDir, {
    logger,
    maxRunning: 4,
    ...options,
  });
  onCleanup(close);
  return { dataDir, store, manager, logged, newManager };
}

/** A plain directory (not a git repository) holding a pipeline file. */
async function sourceDir(pipeline: string, files: Record<string, string> = {}): Promise<string> {
  return writePipeline(await tempDir('gbcms-exec-src-'), pipeline, files);
}

let projects = 0;
async function newProject(store: Store, repo: string, maxConcurrent = 1): Promise<Project> {
  projects += 1;
  return store.projects.create({ name: `project-${projects}`, repo, max_concurrent: maxConcurrent });
}

function startManual(manager: ExecutionManager, project: Project, message?: string): Promise<Execution> {
  return manager.start({
    project,
    trigger: { event: 'manual', branch: 'main' },
    source: { kind: 'project' },
    message,
  });
}

async function ended(manager: ExecutionManager, id: string): Promise<Execution> {
  const events = await collect(manager, id);
  const end = events.at(-1);
  assert.equal(end?.type, 'end');
  return end.execution;
}

/** Resolves once the step is running (its first `step` event with status running). */
function stepRunning(manager: ExecutionManager, id: string, step: string): Promise<void> {
  return new Promise((resolve, reject) => {
    manager
      .subscribe(id, (event) => {
        if (event.type === 'step' && event.step.name === step && event.step.status === 'running') resolve();
        if (event.type === 'end') reject(new Error(`execution ended before ${step} ran`));
      })
      .catch(reject);
  });
}

const OK_PIPELINE = `version: 1
name: demo
steps:
  build:
    image: busybox:stable
    commands: [make]
    env:
      STEP_OUTPUT: "compiling\\ndone\\n"
    artifacts: [dist/app.txt]
  test:
    image: busybox:stable
    commands: [make test]
    env:
      STEP_STDERR: "warning: slow\\n"
`;

/** Longer than any test waits: a step that sleeps this long runs until it is stopped. */
const UNTIL_STOPPED = 10 * HANG_MS;

const sleepingPipeline = (ms: number) => `version: 1
steps:
  wait:
    image: busybox:stable
    commands: [sleep]
    env:
      STEP_SLEEP_MS: "${ms}"
      STEP_OUTPUT: "waiting\\n"
`;

describe('execution manager on the fake backend', () => {
  test('start records a pending execution at once and runs it to success, persisting steps, logs and artifacts', async () => {
    const { manager, store, dataDir } = await harness();
    const project = await newProject(store, await sourceDir(OK_PIPELINE));
    const statuses: string[] = [];
    const stepsEnded: StepEnded[] = [];
    manager.events.on('status', (execution) => statuses.push(execution.status));
    manager.events.on('step-ended', (ended) => stepsEnded.push(ended));
    // The metrics plugin takes the manager's emitter as its source of step durations.
    const metricsSource: StepEvents = manager.events;
    const durations: (number | null)[] = [];
    metricsSource.on('step-ended', ({ step }) => durations.push(step.duration_ms));

    const execution = await startManual(manager, project, 'by hand');
    assert.equal(execution.status, 'pending');
    assert.equal(execution.number, 1);
    assert.equal(execution.message, 'by hand');
    assert.equal(execution.logs_dir, `executions/${execution.id}`);

    const final = await ended(manager, execution.id);
    assert.equal(final.status, 'success');
    assert.equal(final.reason, null);
    assert.ok(final.started_at && final.ended_at);
    assert.deepEqual(statuses, ['pending', 'running', 'success']);

    const row = await store.executions.get(execution.id);
    assert.equal(row?.status, 'success');
    const steps = await store.steps.list(execution.id);
    assert.deepEqual(
      steps.map((s) => [s.name, s.position, s.status, s.exit_code, s.attempts]),
      [
        ['build', 0, 'success', 0, 1],
        ['test', 1, 'success', 0, 1],
      ],
    );
    const buildLog = await readLogFile(join(dataDir, execution.logs_dir, steps[0]?.log ?? ''));
    assert.deepEqual(
      buildLog.map((l) => [l.stream, l.text]),
      [
        ['stdout', 'compiling'],
        ['stdout', 'done'],
        ['system', 'artifact build/dist/app.txt (57 bytes)'],
      ],
    );
    const artifacts = await store.artifacts.list(execution.id);
    assert.deepEqual(
      artifacts.map((a) => [a.step, a.path]),
      [['build', 'build/dist/app.txt']],
    );
    assert.ok(existsSync(join(dataDir, execution.logs_dir, 'artifacts', 'build', 'dist', 'app.txt')));
    // The server keeps the record in its store; run.json is the CLI's.
    assert.ok(!existsSync(join(dataDir, execution.logs_dir, 'run.json')));

    const environments = await store.environments.listByExecution(execution.id);
    assert.deepEqual(environments.map((e) => e.step).sort(), ['build', 'test', null].sort());
    assert.ok(environments.every((e) => e.destroyed_at !== null && e.type === 'local'));
    assert.equal(environments.find((e) => e.step === 'build')?.image, 'busybox:stable');

    assert.deepEqual(
      stepsEnded.map((e) => [e.execution.id, e.step.name, e.step.status, typeof e.step.duration_ms]),
      [
        [execution.id, 'build', 'success', 'number'],
        [execution.id, 'test', 'success', 'number'],
      ],
    );
    assert.equal(durations.length, 2);
    assert.ok(durations.every((ms) => typeof ms === 'number' && ms >= 0));
    assert.deepEqual(manager.stats(), { pending: 0, running: 0, runningSteps: 0 });
    assert.deepEqual(await readdir(join(dataDir, 'workspaces')), [], 'the checkout is removed');
  });

  test('a failing step ends the execution as failure', async () => {
    const { manager, store } = await harness();
    const pipeline = `version: 1
steps:
  check:
    image: busybox:stable
    commands: ["false"]
    env: { STEP_EXIT_CODE: "3" }
`;
    const project = await newProject(store, await sourceDir(pipeline));
    const final = await ended(manager, (await startManual(manager, project)).id);
    assert.equal(final.status, 'failure');
    const [step] = await store.steps.list(final.id);
    assert.equal(step?.exit_code, 3);
    assert.equal(step?.reason, 'exit code 3');
  });

  test('an invalid .gbcms.yml ends the execution as error, with every problem as FILE:LINE:COL', async () => {
    const { manager, store } = await harness();
    const pipeline = `version: 1
steps:
  build:
    image: busybox:stable
    comands: [make]
    timeout: 5 parsecs
`;
    const project = await newProject(store, await sourceDir(pipeline));
    const execution = await startManual(manager, project);
    const events = await collect(manager, execution.id);
    const final = events.at(-1);
    assert.equal(final?.type, 'end');
    assert.equal(final.execution.status, 'error');
    const lines = final.execution.reason?.split('\n') ?? [];
    assert.ok(lines.length >= 2, `expected several problems, got: ${final.execution.reason}`);
    for (const line of lines) assert.match(line, /^\.gbcms\.yml:\d+:\d+: error GBCMS_[A-Z_]+: \S/);
    assert.ok(
      lines.some((line) => line.startsWith('.gbcms.yml:5:')),
      'the typo on line 5 is reported',
    );
    const notice = events.find((e) => e.type === 'notice');
    assert.equal(notice?.type === 'notice' && notice.message, final.execution.reason);
    assert.deepEqual(await store.steps.list(execution.id), []);
  });

  test('a source without a pipeline file ends as error saying so', async () => {
    const { manager, store } = await harness();
    const dir = await tempDir('gbcms-exec-empty-');
    await writeFile(join(dir, 'README.md'), 'nothing to run\n');
    const project = await newProject(store, dir);
    const final = await ended(manager, (await startManual(manager, project)).id);
    assert.equal(final.status, 'error');
    assert.equal(final.reason, 'cannot read .gbcms.yml: no such file');
  });

  test('forbidden and unreachable sources end as error with a clear reason', async () => {
    const { manager, store, logged } = await harness();
    const project = await newProject(store, await sourceDir(OK_PIPELINE));
    const run = async (repo: string) => {
      const execution = await manager.start({
        project,
        trigger: { event: 'api', branch: 'main' },
        source: { kind: 'git', repo },
      });
      return ended(manager, execution.id);
    };

    const local = await run(project.repo);
    assert.equal(local.status, 'error');
    assert.match(local.reason ?? '', /^repository source refused: local paths are not allowed here/);

    const ext = await run('ext::sh -c touch% /tmp/pwned');
    assert.match(ext.reason ?? '', /^repository source refused: .*remote-helper/);

    const metadata = await run('http://169.254.169.254/latest/meta-data.git');
    assert.match(metadata.reason ?? '', /^repository source refused: /);

    const unreachable = await run('git://127.0.0.1:9/nothing.git');
    assert.equal(unreachable.status, 'error');
    assert.match(
      unreachable.reason ?? '',
      /^could not fetch refs\/heads\/main from git:\/\/127\.0\.0\.1:9\/nothing\.git: git fetch /,
    );
    assert.ok(logged.some((l) => l.level === 'warn' && l.message === unreachable.reason));

    const badRepo = await newProject(store, 'relative/path');
    const refused = await ended(manager, (await startManual(manager, badRepo)).id);
    assert.match(refused.reason ?? '', /^the project's repository source is refused: relative paths/);
  });

  test('a local git repository is fetched at the ref, and the commit lands on the row', async () => {
    const { manager, store } = await harness();
    const repo = await tempDir('gbcms-exec-git-');
    const git = gitAs(GRACE);
    git(repo, 'init', '-q', '-b', 'trunk');
    await writeFile(join(repo, '.gbcms.yml'), OK_PIPELINE);
    await writeFile(join(repo, 'notes.txt'), 'uncommitted files are not part of the commit\n');
    git(repo, 'add', '.gbcms.yml');
    git(repo, 'commit', '-q', '-m', 'Add the pipeline\n\nWith a body.');
    const commit = git(repo, 'rev-parse', 'HEAD');
    const project = await store.projects.create({ name: 'git-project', repo, default_branch: 'trunk' });

    const execution = await manager.start({
      project,
      trigger: { event: 'manual' },
      source: { kind: 'project' },
    });
    assert.equal(execution.ref, 'trunk', 'a run without a ref runs the default branch');
    const final = await ended(manager, execution.id);
    assert.equal(final.status, 'success');
    assert.equal(final.commit_sha, commit);
    assert.equal(final.author, 'Grace Hopper');
    assert.equal(final.message, 'Add the pipeline\n\nWith a body.');
  });

  test('with max_concurrent 1 the second execution of a project waits until the first ends', async () => {
    const { manager, store } = await harness();
    // Steps that run until terminated: the test, not a timer, decides when a slot frees up.
    const project = await newProject(store, await sourceDir(sleepingPipeline(UNTIL_STOPPED)));
    const other = await newProject(store, await sourceDir(sleepingPipeline(UNTIL_STOPPED)));
    const first = await startManual(manager, project);
    const second = await startManual(manager, project);
    const third = await startManual(manager, other);
    await stepRunning(manager, first.id, 'wait');
    await stepRunning(manager, third.id, 'wait');
    assert.equal((await store.executions.get(second.id))?.status, 'pending');
    assert.deepEqual(manager.stats(), { pending: 1, running: 2, runningSteps: 2 });

    await manager.terminate(first.id);
    await stepRunning(manager, second.id, 'wait');
    const firstEnd = await store.executions.get(first.id);
    const secondNow = await store.executions.get(second.id);
    assert.equal(secondNow?.status, 'running');
    assert.ok(
      (secondNow?.started_at ?? '') >= (firstEnd?.ended_at ?? 'z'),
      `second started ${secondNow?.started_at}, first ended ${firstEnd?.ended_at}`,
    );
    assert.deepEqual(manager.stats(), { pending: 0, running: 2, runningSteps: 2 });
    await manager.terminate(second.id);
    await manager.terminate(third.id);
  });

  test('the global limit holds executions of different projects back', async () => {
    const { manager, store } = await harness({ maxRunning: 1 });
    const a = await newProject(store, await sourceDir(sleepingPipeline(UNTIL_STOPPED)));
    const b = await newProject(store, await sourceDir(sleepingPipeline(UNTIL_STOPPED)));
    // One after the other: a file read in progress holds back only its own project, so a second
    // started at once could read its file first and take the one slot (no order is promised).
    const first = await startManual(manager, a);
    await stepRunning(manager, first.id, 'wait');
    const second = await startManual(manager, b);
    assert.equal((await store.executions.get(second.id))?.status, 'pending');
    assert.deepEqual(manager.stats(), { pending: 1, running: 1, runningSteps: 1 });
    await manager.terminate(first.id);
    await stepRunning(manager, second.id, 'wait');
    const firstEnd = await store.executions.get(first.id);
    const secondNow = await store.executions.get(second.id);
    assert.ok((secondNow?.started_at ?? '') >= (firstEnd?.ended_at ?? 'z'));
    assert.deepEqual(manager.stats(), { pending: 0, running: 1, runningSteps: 1 });
    await manager.terminate(second.id);
  });
});

describe('concurrency groups with max_concurrent 1', () => {
  const grouped = (group: string, ms: number) => `version: 1
concurrency: {group: ${group}, cancel_in_progress: true}
steps:
  deploy:
    image: busybox:stable
    commands: [sleep]
    env:
      STEP_SLEEP_MS: "${ms}"
`;

  test('a newer execution in the group cancels the running older one, then runs', async () => {
    const { manager, store } = await harness();
    const dir = await sourceDir(grouped('deploy', UNTIL_STOPPED));
    const project = await newProject(store, dir);
    assert.equal(project.max_concurrent, 1);
    const first = await startManual(manager, project);
    await stepRunning(manager, first.id, 'deploy');
    // The newer one reads a quick file: the source is copied when the execution reads it.
    await writePipeline(dir, grouped('deploy', 1));
    const second = await startManual(manager, project);
    const firstEnd = await beforeHang(ended(manager, first.id), 'the first to be cancelled');
    assert.equal(firstEnd.status, 'killed');
    assert.equal(firstEnd.reason, `cancelled by execution #${second.number} in concurrency group deploy`);
    const secondEnd = await beforeHang(ended(manager, second.id), 'the second to end');
    assert.equal(secondEnd.status, 'success');
    assert.equal(secondEnd.concurrency_group, 'deploy');
    assert.ok((secondEnd.started_at ?? '') >= (firstEnd.ended_at ?? 'z'));
  });

  test('executions without a group still run one at a time, in creation order', async () => {
    const { manager, store } = await harness();
    const project = await newProject(store, await sourceDir(sleepingPipeline(30)));
    const started = [];
    for (let i = 0; i < 4; i += 1) started.push(await startManual(manager, project));
    const rows = [];
    for (const execution of started) rows.push(await beforeHang(ended(manager, execution.id), 'an end'));
    for (const [i, row] of rows.entries()) {
      assert.equal(row.status, 'success');
      assert.equal(row.concurrency_group, null);
      const next = rows[i + 1];
      if (next) {
        assert.ok(
          (row.ended_at ?? 'z') <= (next.started_at ?? ''),
          `#${row.number} ended ${row.ended_at}, #${next.number} started ${next.started_at}`,
        );
      }
    }
    assert.deepEqual(manager.stats(), { pending: 0, running: 0, runningSteps: 0 });
  });
});

describe('terminating executions', () => {
  test('terminating a running execution stops its step and resolves once it is killed', async () => {
    const { manager, store } = await harness();
    const project = await newProject(store, await sourceDir(sleepingPipeline(UNTIL_STOPPED)));
    const execution = await startManual(manager, project);
    await stepRunning(manager, execution.id, 'wait');

    // The step would sleep ten times the hang limit: only stopping it lets terminate resolve.
    const result = await beforeHang(manager.terminate(execution.id), 'terminate');
    const row = await store.executions.get(execution.id);
    assert.equal(row?.status, 'killed');
    assert.equal(row?.reason, TERMINATED_BY_USER);
    assert.deepEqual(result, { execution_id: execution.id, terminated_at: row?.ended_at });
    const [step] = await store.steps.list(execution.id);
    assert.equal(step?.status, 'killed');
    assert.equal(step?.exit_code, 143, 'stopped, not slept to the end');
    const environments = await store.environments.listByExecution(execution.id);
    assert.ok(environments.length > 0 && environments.every((e) => e.destroyed_at !== null));
    assert.deepEqual(manager.stats(), { pending: 0, running: 0, runningSteps: 0 });
  });

  test('terminating a pending execution takes it out of the queue; it never runs', async () => {
    const { manager, store } = await harness();
    const project = await newProject(store, await sourceDir(sleepingPipeline(UNTIL_STOPPED)));
    const first = await startManual(manager, project);
    const second = await startManual(manager, project);
    const third = await startManual(manager, project);
    // Until it has read its file the first one is pending too.
    await stepRunning(manager, first.id, 'wait');
    const result = await manager.terminate(second.id);
    const row = await store.executions.get(second.id);
    assert.equal(row?.status, 'killed');
    assert.equal(row?.started_at, null);
    assert.equal(result?.terminated_at, row?.ended_at);
    assert.equal(manager.stats().pending, 1);

    await manager.terminate(first.id);
    await stepRunning(manager, third.id, 'wait');
    assert.deepEqual(await store.steps.list(second.id), []);
    await manager.terminate(third.id);
  });

  test('terminating an ended execution answers undefined; an unknown one throws NotFoundError', async () => {
    const { manager, store } = await harness();
    const project = await newProject(store, await sourceDir(OK_PIPELINE));
    const execution = await startManual(manager, project);
    await ended(manager, execution.id);
    assert.equal(await manager.terminate(execution.id), undefined);
    await assert.rejects(manager.terminate('no-such-execution'), NotFoundError);
  });

  test('two terminate calls at once both see the kill', async () => {
    const { manager, store } = await harness();
    const project = await newProject(store, await sourceDir(sleepingPipeline(UNTIL_STOPPED)));
    const execution = await startManual(manager, project);
    await stepRunning(manager, execution.id, 'wait');
    const [a, b] = await Promise.all([manager.terminate(execution.id), manager.terminate(execution.id)]);
    assert.ok(a && b);
    assert.equal(a.terminated_at, b.terminated_at);
  });
});

describe('recovery, drain and retention', () => {
  test('recover turns running executions into error "engine restarted" and runs pending ones again', async () => {
    const { store, newManager } = await harness();
    const project = await newProject(store, await sourceDir(OK_PIPELINE));
    // What a crashed server leaves: a running execution with a running step and a live environment.
    const crashed = await store.executions.create({
      project_id: project.id,
      trigger: { event: 'push', branch: 'main' },
    });
    await store.executions.setStarted(crashed.id);
    await store.steps.upsert(crashed.id, {
      name: 'build',
      status: 'running',
      exit_code: null,
      reason: null,
      started_at: new Date().toISOString(),
      ended_at: null,
      duration_ms: null,
      attempts: 1,
      log: 'logs/build.log',
    });
    const environment = await store.environments.record({
      execution_id: crashed.id,
      step: 'build',
      type: 'docker',
    });
    const waiting = await store.executions.create({
      project_id: project.id,
      trigger: { event: 'manual', branch: 'main' },
      message: 'queued before the crash',
    });

    const manager = newManager();
    const report = await manager.recover();
    assert.deepEqual(report, { failed: [crashed.id], requeued: [waiting.id], blocked: [] });

    const failed = await store.executions.get(crashed.id);
    assert.equal(failed?.status, 'error');
    assert.equal(failed?.reason, ENGINE_RESTARTED);
    assert.ok(failed?.ended_at);
    const [step] = await store.steps.list(crashed.id);
    assert.equal(step?.status, 'error');
    assert.equal(step?.reason, ENGINE_RESTARTED);
    const [env] = await store.environments.listByExecution(crashed.id);
    assert.equal(env?.id, environment.id);
    assert.ok(env?.destroyed_at);

    const rerun = await ended(manager, waiting.id);
    assert.equal(rerun.status, 'success');
    assert.equal(rerun.message, 'queued before the crash');
    assert.equal((await manager.recover()).failed.length, 0, 'a second recover finds nothing');
  });

  test('drain waits for short executions to finish and rejects new ones', async () => {
    const { manager, store } = await harness();
    const project = await newProject(store, await sourceDir(sleepingPipeline(200)));
    const execution = await startManual(manager, project);
    await stepRunning(manager, execution.id, 'wait');
    // A grace period only a hang outlasts: the 200 ms step ends well within it.
    await manager.drain(HANG_MS);
    assert.equal((await store.executions.get(execution.id))?.status, 'success');
    await assert.rejects(startManual(manager, project), (error: unknown) => {
      assert.ok(error instanceof ShuttingDownError);
      assert.equal(error.code, 'SHUTTING_DOWN');
      assert.deepEqual(describeError(executionHttpError(error)), {
        statusCode: 503,
        body: {
          error: 'GBCMS_ERR_UNAVAILABLE',
          message: 'the server is shutting down and takes no new executions',
        },
      });
      return true;
    });
  });

  test('drain terminates what is still running after the grace period; waiting ones stay pending', async () => {
    const { manager, store } = await harness();
    const project = await newProject(store, await sourceDir(sleepingPipeline(UNTIL_STOPPED)));
    const running = await startManual(manager, project);
    const waiting = await startManual(manager, project);
    await stepRunning(manager, running.id, 'wait');
    await beforeHang(manager.drain(100), 'drain');
    const row = await store.executions.get(running.id);
    assert.equal(row?.status, 'killed');
    assert.equal(row?.reason, SHUT_DOWN);
    assert.equal((await store.steps.list(running.id))[0]?.exit_code, 143, 'stopped, not slept to the end');
    assert.equal((await store.executions.get(waiting.id))?.status, 'pending');
    assert.deepEqual(manager.stats(), { pending: 1, running: 0, runningSteps: 0 });
  });

  test('the retention sweep deletes old finished executions with their folders, and nothing else', async () => {
    const { manager, store, dataDir } = await harness();
    const project = await newProject(store, await sourceDir(OK_PIPELINE));
    const old = await startManual(manager, project);
    await ended(manager, old.id);
    const pending = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
    assert.ok(existsSync(join(dataDir, old.logs_dir, 'logs')));

    assert.equal(await manager.sweeps.retention(new Date(Date.parse(old.created_at) - 1000)), 0);
    assert.equal(await manager.sweeps.retention(new Date(Date.now() + 60_000)), 1);
    assert.equal(await store.executions.get(old.id), undefined);
    assert.deepEqual(await store.steps.list(old.id), []);
    assert.equal(existsSync(join(dataDir, old.logs_dir)), false);
    assert.equal((await store.executions.get(pending.id))?.status, 'pending');
  });

  test('the retention timer sweeps at once and then periodically until stopped', async () => {
    const { manager, store, dataDir } = await harness();
    const project = await newProject(store, await sourceDir(OK_PIPELINE));
    const first = await startManual(manager, project);
    await ended(manager, first.id);
    // Timestamps have millisecond resolution: let the execution be strictly older than "now - 0".
    await new Promise((resolve) => setTimeout(resolve, 5));
    const stop = manager.sweeps.startRetentionTimer(0, 50);
    try {
      await pollUntil(
        'the first execution swept',
        async () => (await store.executions.get(first.id)) === undefined,
      );
      const second = await startManual(manager, project);
      await ended(manager, second.id);
      await pollUntil('the second execution swept', () => !existsSync(join(dataDir, second.logs_dir)));
      assert.equal(await store.executions.get(second.id), undefined);
    } finally {
      stop();
    }
  });

  test('a leftover workspace from a crash is removed by recover', async () => {
    const { manager, dataDir } = await harness();
    const leftover = join(dataDir, 'workspaces', 'crashed-run');
    await mkdir(leftover, { recursive: true });
    await writeFile(join(leftover, 'file.txt'), 'x');
    await manager.recover();
    assert.equal(existsSync(leftover), false);
  });
});
