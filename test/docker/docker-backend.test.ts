// The Docker backend on the real engine: output, workspace, hardening, limits, stop, cleanup.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collectArtifacts } from '../../engine/artifacts/collect.ts';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { contextHash, listContextFiles } from '../../engine/backends/docker/build-context.ts';
import { removeRunResources } from '../../engine/backends/docker/cleanup.ts';
import { buildTag } from '../../engine/backends/docker/images.ts';
import { LABEL_ROLE, LABEL_RUN } from '../../engine/backends/docker/labels.ts';
import { type Backend, BackendError, type RunContext, type StepExit } from '../../engine/backends/types.ts';
import { stepSlug } from '../../engine/compile/slugs.ts';
import type { PlannedStep, ResolvedEnvironment } from '../../engine/plan.ts';
import { readRunInputs } from '../../engine/run-inputs.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { beforeHang } from '../helpers/hang.ts';
import { HANG_MS } from '../helpers/poll.ts';

const runIds: string[] = [];

/**
 * crun 1.x runs nothing where cgroup v1 is mounted beside a cgroup2 hierarchy that holds a
 * controller. The engine is local in these tests, so its host's layout is this machine's.
 */
function cgroupHybridWithControllers(): boolean {
  try {
    return readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}
const dirs: string[] = [];

function workspaceDir(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'gbcms-docker-ws-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

type EnvironmentOverrides = Partial<Omit<ResolvedEnvironment, 'resources'>> &
  Partial<ResolvedEnvironment['resources']>;

function makeEnvironment(overrides: EnvironmentOverrides = {}): ResolvedEnvironment {
  const {
    nanoCpus = 1e9,
    memoryBytes = 256 * 1024 ** 2,
    pids = 256,
    tmpBytes = 64 * 1024 ** 2,
    ...rest
  } = overrides;
  return {
    name: `image:${BUSYBOX_IMAGE}`,
    image: BUSYBOX_IMAGE,
    pull: 'never',
    network: 'none',
    runtime: 'runc',
    user: '1000:1000',
    env: {},
    ...rest,
    resources: { nanoCpus, memoryBytes, pids, tmpBytes },
  };
}

function makeStep(
  options: Partial<Omit<PlannedStep, 'environment'>> & { environment?: EnvironmentOverrides } = {},
): PlannedStep {
  const { environment, ...rest } = options;
  return {
    name: 'step',
    slug: stepSlug(options.name ?? 'step'),
    baseName: options.name ?? 'step',
    environment: makeEnvironment(environment),
    commands: ['true'],
    env: {},
    dependsOn: [],
    timeoutMs: 60_000,
    retries: 0,
    allowFailure: false,
    artifacts: [],
    reports: {},
    secrets: [],
    ...rest,
  };
}

function makeRun(workspace: string, steps: PlannedStep[], notices: string[] = []): RunContext {
  const id = randomBytes(16).toString('base64url');
  runIds.push(id);
  return {
    id,
    plan: { name: 'test', file: '.gbcms.yml', workspace, trigger: { event: 'manual' }, steps, layers: [] },
    dir: workspace,
    secrets: {},
    env: { CI: 'true', GBCMS_RUN_ID: id },
    notice: (message) => notices.push(message),
  };
}

/** What the engine reads from the project before setupRun. */
function inputsOf(run: RunContext) {
  return readRunInputs(run.plan, run.notice);
}

interface StepRun {
  stdout: string;
  stderr: string;
  exit: StepExit;
}

/** start -> tail and wait together, as the scheduler does. */
async function runStep(
  backend: Backend,
  step: PlannedStep,
  run: RunContext,
  options: { signal?: AbortSignal; graceMs?: number } = {},
): Promise<StepRun> {
  await backend.startStep(step, run);
  const output = { stdout: '', stderr: '' };
  const tail = (async () => {
    for await (const chunk of backend.tailStep(step, run)) output[chunk.stream] += chunk.data.toString();
  })();
  const exit = await backend.waitStep(
    step,
    run,
    options.signal ?? new AbortController().signal,
    options.graceMs ?? 2000,
  );
  await tail;
  return { ...output, exit };
}

async function cleanupRuns(): Promise<void> {
  for (const id of runIds) await removeRunResources(docker, id);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

describe('DockerBackend', await dockerTestOptions(), () => {
  const backend = new DockerBackend({ docker });

  before(async () => {
    await ensureBusyboxImage();
  });

  after(cleanupRuns);

  test('output: stdout and stderr separated, each command echoed before it runs', async () => {
    const step = makeStep({ commands: ['echo hello', 'echo oops >&2', "echo 'it''s'"] });
    const run = makeRun(workspaceDir({}), [step]);
    await backend.setupRun(run, await inputsOf(run));
    const result = await runStep(backend, step, run);
    assert.equal(result.exit.exitCode, 0);
    assert.equal(result.stdout, "+ echo hello\nhello\n+ echo oops >&2\n+ echo 'it''s'\nits\n");
    assert.equal(result.stderr, 'oops\n');
    await backend.destroyRun(run.id);
  });

  test('large output arrives whole, in order, split across many frames', async () => {
    const step = makeStep({ commands: ['seq 1 200000', 'seq 1 1000 >&2'] });
    const run = makeRun(workspaceDir({}), [step]);
    await backend.setupRun(run, await inputsOf(run));
    const result = await runStep(backend, step, run);
    const expected = Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join('');
    assert.equal(result.stdout, `+ seq 1 200000\n${expected}+ seq 1 1000 >&2\n`);
    assert.equal(result.stderr, Array.from({ length: 1000 }, (_, i) => `${i + 1}\n`).join(''));
    await backend.destroyRun(run.id);
  });

  test('sh -e: the first failing command ends the step with its exit code', async () => {
    const step = makeStep({ commands: ['echo one', 'exit 3', 'echo never'] });
    const run = makeRun(workspaceDir({}), [step]);
    await backend.setupRun(run, await inputsOf(run));
    const result = await runStep(backend, step, run);
    assert.equal(result.exit.exitCode, 3);
    assert.doesNotMatch(result.stdout, /never\n/);
    await backend.destroyRun(run.id);
  });

  test('workspace: files present, owned by and writable for uid 1000, shared between steps', async () => {
    const dir = workspaceDir({ 'README.md': 'hello workspace\n', 'src/a.txt': 'a' });
    const write = makeStep({
      name: 'write',
      commands: [
        'id -u',
        'pwd',
        'cat README.md',
        'stat -c "%u:%g %n" . src src/a.txt',
        'echo new > created.txt',
        'echo more >> src/a.txt',
        'mkdir -p out && echo built > out/x',
      ],
    });
    const read = makeStep({ name: 'read', commands: ['cat created.txt src/a.txt out/x'] });
    const run = makeRun(dir, [write, read]);
    await backend.setupRun(run, await inputsOf(run));
    const first = await runStep(backend, write, run);
    assert.equal(first.exit.exitCode, 0, first.stderr);
    assert.match(first.stdout, /^1000$/m);
    assert.match(first.stdout, /^\/workspace$/m);
    assert.match(first.stdout, /^hello workspace$/m);
    assert.match(first.stdout, /^1000:1000 \.$/m);
    assert.match(first.stdout, /^1000:1000 src\/a.txt$/m);
    const second = await runStep(backend, read, run);
    assert.equal(second.stdout, '+ cat created.txt src/a.txt out/x\nnew\namore\nbuilt\n');
    await backend.destroyRun(run.id);
  });

  test('hardening: no capabilities, read-only root, writable /tmp and home, no network', async () => {
    const step = makeStep({
      commands: [
        'grep CapEff /proc/self/status',
        'if touch /x 2>/dev/null; then echo ROOT-WRITABLE; else echo root-readonly; fi',
        'touch /tmp/t "$HOME/h" && echo tmp-and-home-ok',
        // An empty workspace is the case where Docker's volume copy-up would take the root away.
        'touch /workspace/w && echo empty-workspace-writable',
        'echo "home=$HOME"',
        'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "',
        // busybox's static wget crashes, which would pass for the wrong reason: nc says why it fails.
        'if nc -w 2 1.1.1.1 80 </dev/null; then echo NET; else echo no-net; fi',
      ],
    });
    const run = makeRun(workspaceDir({}), [step]);
    await backend.setupRun(run, await inputsOf(run));
    const result = await runStep(backend, step, run);
    assert.equal(result.exit.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^CapEff:\s+0000000000000000$/m);
    assert.match(result.stdout, /^root-readonly$/m);
    assert.match(result.stdout, /^tmp-and-home-ok$/m);
    assert.match(result.stdout, /^empty-workspace-writable$/m);
    assert.match(result.stdout, /^home=\/home\/gbcms$/m);
    assert.match(result.stdout, /^no-net$/m);
    assert.match(result.stderr, /Network is unreachable/);
    const interfaces = result.stdout.split('\n+ if nc')[0]?.split('| tr -d " "\n')[1]?.trim();
    assert.equal(interfaces, 'lo');
    const containers = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_RUN}=${run.id}`, `${LABEL_ROLE}=step`] },
    });
    const inspect = await docker.getContainer(containers[0]?.Id ?? '').inspect();
    assert.equal(inspect.HostConfig.LogConfig?.Type, 'none');
    assert.deepEqual(inspect.HostConfig.CapDrop, ['ALL']);
    await backend.destroyRun(run.id);
  });

  test('pids limit holds against a fork loop', async () => {
    const step = makeStep({
      environment: { pids: 64 },
      commands: [
        `i=0; while [ $i -lt 200 ]; do sleep ${(10 * HANG_MS) / 1000} & i=$((i+1)); done`,
        'echo spawned-all',
      ],
    });
    const run = makeRun(workspaceDir({}), [step]);
    await backend.setupRun(run, await inputsOf(run));
    // The sleeps would outlast the hang limit ten times over: they must die with the container.
    const result = await beforeHang(runStep(backend, step, run), 'the fork loop step');
    assert.notEqual(result.exit.exitCode, 0);
    assert.doesNotMatch(result.stdout, /^spawned-all$/m);
    assert.match(result.stderr, /can't fork|Resource temporarily unavailable/i);
    await backend.destroyRun(run.id);
  });

  test('memory limit: a step that allocates past memory: 32m is OOM-killed', async () => {
    const step = makeStep({
      environment: { memoryBytes: 32 * 1024 ** 2 },
      commands: ['head -c 200m /dev/zero | tail > /dev/null'],
    });
    const run = makeRun(workspaceDir({}), [step]);
    await backend.setupRun(run, await inputsOf(run));
    const result = await runStep(backend, step, run);
    assert.notEqual(result.exit.exitCode, 0);
    assert.equal(result.exit.oomKilled, true);
    await backend.destroyRun(run.id);
  });

  test('abort stops a long step within the grace period', async () => {
    const step = makeStep({ commands: [`sleep ${(10 * HANG_MS) / 1000}`] });
    const run = makeRun(workspaceDir({}), [step]);
    await backend.setupRun(run, await inputsOf(run));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    // Only stopping the step (SIGTERM, then SIGKILL after the grace period) ends it in time.
    const result = await beforeHang(
      runStep(backend, step, run, { signal: controller.signal, graceMs: 1000 }),
      'the aborted step',
    );
    assert.notEqual(result.exit.exitCode, 0);
    await backend.destroyRun(run.id);
  });

  test('artifacts: a folder and a renamed file land under destDir, a missing one is a notice', async () => {
    const step = makeStep({
      commands: [
        'mkdir -p dist/sub && echo app > dist/app.js && echo deep > dist/sub/x.txt',
        'echo report > r.txt',
      ],
      artifacts: [
        { path: 'dist', dest: 'dist' },
        { path: 'r.txt', dest: 'reports/result.txt' },
        { path: 'never-made', dest: 'never-made' },
      ],
    });
    const notices: string[] = [];
    const run = makeRun(workspaceDir({}), [step], notices);
    await backend.setupRun(run, await inputsOf(run));
    const ran = await runStep(backend, step, run);
    assert.equal(ran.exit.exitCode, 0, ran.stdout + ran.stderr);
    const dest = workspaceDir({});
    const records = await collectArtifacts(backend, step, run, {
      destDir: dest,
      missing: (path) => notices.push(`artifact '${path}' was not found in the workspace`),
    });
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    assert.deepEqual(
      records.sort((a, b) => a.path.localeCompare(b.path)),
      [
        { step: 'step', path: 'dist/app.js', size: 4, sha256: sha('app\n') },
        { step: 'step', path: 'dist/sub/x.txt', size: 5, sha256: sha('deep\n') },
        { step: 'step', path: 'reports/result.txt', size: 7, sha256: sha('report\n') },
      ],
    );
    assert.equal(readFileSync(join(dest, 'dist/sub/x.txt'), 'utf8'), 'deep\n');
    assert.equal(readFileSync(join(dest, 'reports/result.txt'), 'utf8'), 'report\n');
    assert.deepEqual(notices, ["artifact 'never-made' was not found in the workspace"]);
    await backend.destroyRun(run.id);
  });

  test('artifacts: a link out of the workspace or an oversized artifact is refused', async () => {
    const step = makeStep({
      commands: ['mkdir out && ln -s /etc/passwd out/pw', 'head -c 5000 /dev/zero > big.bin'],
      artifacts: [{ path: 'out', dest: 'out' }],
    });
    const big = { ...step, artifacts: [{ path: 'big.bin', dest: 'big.bin' }] };
    const run = makeRun(workspaceDir({}), [step]);
    await backend.setupRun(run, await inputsOf(run));
    await runStep(backend, step, run);
    const dest = workspaceDir({});
    const collect = (artifacts: PlannedStep) =>
      collectArtifacts(backend, artifacts, run, { destDir: dest, maxBytes: 1000, missing: () => undefined });
    await assert.rejects(collect(step), { code: 'GBCMS_ERR_ARTIFACT_LINK' });
    await assert.rejects(collect(big), { code: 'GBCMS_ERR_ARTIFACT_TOO_LARGE' });
    assert.deepEqual(readdirSync(dest), []);
    await backend.destroyRun(run.id);
  });

  test('a retry gets a fresh container after destroyStep', async () => {
    const step = makeStep({ commands: ['echo attempt'] });
    const run = makeRun(workspaceDir({}), [step]);
    await backend.setupRun(run, await inputsOf(run));
    for (let i = 0; i < 2; i++) {
      const result = await runStep(backend, step, run);
      assert.equal(result.stdout, '+ echo attempt\nattempt\n');
      await backend.destroyStep(step, run);
      await backend.destroyStep(step, run);
    }
    await backend.destroyRun(run.id);
  });

  test('destroyStep leaves the container removal in the background; destroyRun waits for it', async () => {
    const steps = [makeStep({ name: 'a', commands: ['true'] }), makeStep({ name: 'b', commands: ['true'] })];
    const run = makeRun(workspaceDir({}), steps);
    await backend.setupRun(run, await inputsOf(run));
    for (const step of steps) {
      await runStep(backend, step, run);
      await backend.destroyStep(step, run);
    }
    await backend.destroyRun(run.id);
    const filters = { label: [`${LABEL_RUN}=${run.id}`] };
    assert.deepEqual(await docker.listContainers({ all: true, filters }), []);
    assert.deepEqual((await docker.listVolumes({ filters })).Volumes ?? [], []);
  });

  test('destroyRun removes every container and the volume, idempotently and concurrently', async () => {
    const steps = [
      makeStep({ name: 'a', commands: ['sleep 600'] }),
      makeStep({ name: 'b', commands: ['true'] }),
    ];
    const run = makeRun(workspaceDir({ f: 'x' }), steps);
    await backend.setupRun(run, await inputsOf(run));
    for (const step of steps) await backend.startStep(step, run);
    const filters = { label: [`${LABEL_RUN}=${run.id}`] };
    const stepFilters = { label: [...filters.label, `${LABEL_ROLE}=step`] };
    assert.equal((await docker.listContainers({ all: true, filters: stepFilters })).length, 2);
    assert.equal((await docker.listVolumes({ filters })).Volumes?.length, 1);
    await Promise.all([backend.destroyRun(run.id), backend.destroyRun(run.id)]);
    await backend.destroyRun(run.id);
    assert.equal((await docker.listContainers({ all: true, filters })).length, 0);
    assert.equal((await docker.listVolumes({ filters })).Volumes?.length ?? 0, 0);
  });

  test('isAvailable answers true against this engine', async () => {
    assert.equal(await backend.isAvailable(), true);
  });
});

describe('DockerBackend images and runtimes', await dockerTestOptions(), () => {
  const backend = new DockerBackend({ docker });
  const builtTags: string[] = [];

  before(async () => {
    await ensureBusyboxImage();
  });

  after(async () => {
    await cleanupRuns();
    for (const tag of builtTags)
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
  });

  test('pull: never with a missing image fails naming the image', async () => {
    const step = makeStep({ environment: { image: 'gbcms-test/missing:1', pull: 'never' } });
    const run = makeRun(workspaceDir({}), [step]);
    await assert.rejects(backend.setupRun(run, await inputsOf(run)), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.equal(error.code, 'GBCMS_ERR_IMAGE_MISSING');
      assert.match(error.message, /'gbcms-test\/missing:1'/);
      return true;
    });
    await backend.destroyRun(run.id);
  });

  test('a failed pull says which image and why', async () => {
    const step = makeStep({
      environment: { image: 'registry.invalid/gbcms/none:1', pull: 'if-not-present' },
    });
    const notices: string[] = [];
    const run = makeRun(workspaceDir({}), [step], notices);
    await assert.rejects(backend.setupRun(run, await inputsOf(run)), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.equal(error.code, 'GBCMS_ERR_IMAGE_PULL');
      assert.match(
        error.message,
        /^could not pull image 'registry\.invalid\/gbcms\/none:1': .*registry\.invalid/,
      );
      return true;
    });
    assert.deepEqual(notices, ['pulling image registry.invalid/gbcms/none:1']);
    await backend.destroyRun(run.id);
  });

  test('build: FROM busybox, .dockerignore respected, entrypoint ignored, cached the second time', async () => {
    const context = workspaceDir({
      Dockerfile:
        'FROM busybox:stable\nARG GREETING\nCOPY . /ctx\nRUN echo "$GREETING" > /built.txt\nENTRYPOINT ["/bin/echo", "WRAPPED"]\n',
      'nonce.txt': randomBytes(8).toString('hex'),
      'ignored/big.bin': 'x',
      '.dockerignore': 'ignored\n',
    });
    const build = { context, dockerfile: 'Dockerfile', args: { GREETING: 'hi from build' } };
    const files = await listContextFiles(context, 'Dockerfile');
    assert.deepEqual(files, ['.dockerignore', 'Dockerfile', 'nonce.txt']);
    const tag = buildTag(await contextHash(context, files, 'Dockerfile', build.args));
    builtTags.push(tag);
    const step = makeStep({
      environment: { name: 'built', image: undefined, build },
      commands: ['cat /built.txt', 'ls /ctx'],
    });
    const firstNotices: string[] = [];
    // The context must be inside the workspace: here it is the workspace.
    const first = makeRun(context, [step], firstNotices);
    await backend.setupRun(first, await inputsOf(first));
    assert.deepEqual(firstNotices, ["building image for environment 'built' from ."]);
    assert.ok((await docker.getImage(tag).inspect()).Id);
    const result = await runStep(backend, step, first);
    assert.equal(result.stdout, '+ cat /built.txt\nhi from build\n+ ls /ctx\nDockerfile\nnonce.txt\n');
    await backend.destroyRun(first.id);

    const secondNotices: string[] = [];
    const second = makeRun(context, [step], secondNotices);
    await backend.setupRun(second, await inputsOf(second));
    assert.deepEqual(secondNotices, [], 'no second build');
    await backend.destroyRun(second.id);
  });

  test('a failing build is an error carrying the build message', async () => {
    const context = workspaceDir({
      Dockerfile: `FROM busybox:stable\nRUN echo ${randomBytes(4).toString('hex')} && exit 7\n`,
    });
    const step = makeStep({
      environment: { image: undefined, build: { context, dockerfile: 'Dockerfile', args: {} } },
    });
    const run = makeRun(context, [step]);
    await assert.rejects(backend.setupRun(run, await inputsOf(run)), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.equal(error.code, 'GBCMS_ERR_IMAGE_BUILD');
      assert.match(error.message, /non-zero code: 7/);
      return true;
    });
    await backend.destroyRun(run.id);
  });

  test('gvisor: the step runs under runsc', async () => {
    // .ci/start-docker registers runsc; an engine without it fails here rather than skipping.
    const runtimes = Object.keys((await docker.info()).Runtimes ?? {});
    assert.ok(
      runtimes.includes('runsc'),
      `runsc is not registered in this engine (runtimes: ${runtimes.join(', ')})`,
    );
    const step = makeStep({ environment: { runtime: 'gvisor' }, commands: ['dmesg | head -n 1', 'id -u'] });
    const run = makeRun(workspaceDir({ 'a.txt': 'sandboxed workspace\n' }), [step]);
    await backend.setupRun(run, await inputsOf(run));
    const result = await runStep(backend, step, run);
    assert.equal(result.exit.exitCode, 0, result.stderr);
    assert.match(result.stdout, /Starting gVisor/);
    const [container] = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_RUN}=${run.id}`, `${LABEL_ROLE}=step`] },
    });
    assert.equal((await docker.getContainer(container?.Id ?? '').inspect()).HostConfig.Runtime, 'runsc');
    await backend.destroyRun(run.id);
  });

  test('crun: the step runs under crun with its limits, or a host crun cannot limit gets a clear refusal', async () => {
    const runtimes = Object.keys((await docker.info()).Runtimes ?? {});
    assert.ok(
      runtimes.includes('crun'),
      `crun is not registered in this engine (runtimes: ${runtimes.join(', ')})`,
    );
    const step = makeStep({
      environment: { runtime: 'crun', memoryBytes: 32 * 1024 ** 2 },
      commands: ['head -c 200m /dev/zero | tail > /dev/null'],
    });
    const run = makeRun(workspaceDir({}), [step]);
    await backend.setupRun(run, await inputsOf(run));
    const filters = { label: [`${LABEL_RUN}=${run.id}`, `${LABEL_ROLE}=step`] };
    if (!cgroupHybridWithControllers()) {
      // Limits hold under crun as under runc: the allocation past memory is OOM-killed.
      const result = await runStep(backend, step, run);
      assert.equal(result.exit.oomKilled, true, result.stderr);
      const [container] = await docker.listContainers({ all: true, filters });
      assert.equal((await docker.getContainer(container?.Id ?? '').inspect()).HostConfig.Runtime, 'crun');
    } else {
      // This engine's host: cgroup v1 plus a cgroup2 hierarchy holding a controller.
      const refused = (error: unknown) => {
        assert.ok(error instanceof BackendError);
        assert.equal(error.code, 'GBCMS_ERR_RUNTIME');
        assert.match(error.message, /runtime: crun cannot run on this host.*hybrid mode.*use runtime: runc/s);
        return true;
      };
      await assert.rejects(backend.startStep(step, run), refused);
      await backend.destroyStep(step, run);
      // Learnt once: the next crun step is refused before a container is created.
      await backend.destroyRun(run.id);
      const again = makeRun(workspaceDir({}), [step]);
      await backend.setupRun(again, await inputsOf(again));
      await assert.rejects(backend.startStep(step, again), refused);
      const againFilters = { label: [`${LABEL_RUN}=${again.id}`, `${LABEL_ROLE}=step`] };
      assert.equal((await docker.listContainers({ all: true, filters: againFilters })).length, 0);
      await backend.destroyRun(again.id);
    }
    await backend.destroyRun(run.id);
  });

  test('gvisor without runsc registered: startStep fails clearly, nothing is created', async () => {
    const withoutRunsc = new DockerBackend({ docker, listRuntimes: async () => ['runc'] });
    const step = makeStep({ environment: { runtime: 'gvisor' } });
    const run = makeRun(workspaceDir({}), [step]);
    await withoutRunsc.setupRun(run, await inputsOf(run));
    await assert.rejects(withoutRunsc.startStep(step, run), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.equal(error.code, 'GBCMS_ERR_RUNTIME');
      assert.match(error.message, /gVisor \(runsc\) is not installed/);
      return true;
    });
    // The workspace's seed container may still be on its way out; no step container was made.
    const filters = { label: [`${LABEL_RUN}=${run.id}`, `${LABEL_ROLE}=step`] };
    assert.equal((await docker.listContainers({ all: true, filters })).length, 0);
    await withoutRunsc.destroyRun(run.id);
  });
});
