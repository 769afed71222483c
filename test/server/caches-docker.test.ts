// Caches on the server, on the real Docker engine: scoped by project and by trust (a fork's
// pull request never writes what the project's branches read), and swept by the retention
// sweep (unreachable keys, the per-project budget, never one in use, never another server's).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { cacheVolumeName, cacheVolumeOptions } from '../../engine/backends/docker/convert.ts';
import { LABEL_CACHE_SCOPE, LABEL_CACHE_SLOT } from '../../engine/backends/docker/labels.ts';
import type { StepCache } from '../../engine/backends/types.ts';
import type { Trigger } from '../../engine/plan.ts';
import type { ExecutionSource } from '../../server/executions/index.ts';
import { ExecutionManager } from '../../server/executions/manager.ts';
import { openStore, type Project, type Store } from '../../server/store/index.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { docker, dockerAnswers } from '../helpers/docker.ts';
import { ADA, commitAll, gitAs } from '../helpers/git.ts';
import { collectEvents } from './helpers/collect-events.ts';

// Two projects copy this file word for word: same name, step, cache path and lock file.
const PIPELINE = `version: 1
name: shared-name
steps:
  install:
    image: ${BUSYBOX_IMAGE}
    commands:
      - if [ -e deps/marker ]; then echo "found $(cat deps/marker)"; else echo "cache empty"; fi
      - echo "$GBCMS_PROJECT $GBCMS_BRANCH" > deps/marker
    cache:
      - path: deps
        key: [lock.json]
`;

const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('server caches on Docker', () => {
  let root: string;
  let store: Store;
  let manager: ExecutionManager;
  let clock = new Date('2030-01-01T00:00:00Z');
  const made = new Set<string>();

  async function projectWithRepo(name: string): Promise<Project> {
    const origin = join(root, `${name}.git`);
    const work = join(root, `${name}-work`);
    const git = gitAs(ADA);
    git(root, 'init', '-q', '--bare', origin);
    await mkdir(work);
    git(work, 'init', '-q');
    await writeFile(join(work, '.gbcms.yml'), PIPELINE);
    // The same lock file in both projects, unique to this test run.
    await writeFile(join(work, 'lock.json'), lock);
    commitAll(git, work, 'pipeline');
    git(work, 'push', '-q', origin, 'HEAD:refs/heads/main', 'HEAD:refs/heads/feature');
    return store.projects.create({ name, repo: origin, max_concurrent: 1 });
  }

  const lock = `{"run":"${randomBytes(8).toString('hex')}"}\n`;

  /** Runs one execution to its end; returns its log lines of the install step. */
  async function run(project: Project, trigger: Trigger, source: ExecutionSource = { kind: 'project' }) {
    const execution = await manager.start({ project, trigger, source });
    const events = await collectEvents(manager, execution.id);
    const end = events.at(-1);
    const lines = events.flatMap((e) => (e.type === 'log' && e.step === 'install' ? [e.line.text] : []));
    assert.equal(end?.type === 'end' && end.execution.status, 'success', lines.join('\n'));
    return lines;
  }

  async function volumesOfScope(scope: string): Promise<string[]> {
    const { Volumes } = await docker.listVolumes({ filters: { label: [`${LABEL_CACHE_SCOPE}=${scope}`] } });
    const names = (Volumes ?? []).map((v) => v.Name);
    for (const name of names) made.add(name);
    return names;
  }

  before(async () => {
    assert.ok(
      await dockerAnswers(),
      'no Docker engine answers on /var/run/docker.sock: these tests need one',
    );
    await ensureBusyboxImage();
    root = await mkdtemp(join(tmpdir(), 'gbcms-caches-'));
    store = await openStore(join(root, 'data'), { now: () => clock });
    manager = new ExecutionManager({
      store,
      backend: new DockerBackend({ logger }),
      dataDir: join(root, 'data'),
      logger,
      graceMs: 500,
    });
  });

  after(async () => {
    await manager?.drain(0);
    await store?.close();
    for (const name of made)
      await docker
        .getVolume(name)
        .remove()
        .catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('two projects with the same name, step, path and lock file never share a cache', async () => {
    const alpha = await projectWithRepo('alpha');
    const beta = await projectWithRepo('beta');
    assert.ok((await run(alpha, { event: 'push', branch: 'main' })).includes('cache empty'));
    // What alpha's step planted is not in beta's cache...
    const betaLines = await run(beta, { event: 'push', branch: 'main' });
    assert.ok(betaLines.includes('cache empty'), betaLines.join('\n'));
    // ...while alpha's next run finds its own.
    const again = await run(alpha, { event: 'push', branch: 'main' });
    assert.ok(again.includes('found alpha main'), again.join('\n'));
    const [alphaVolume] = await volumesOfScope(`project:${alpha.id}`);
    const [betaVolume] = await volumesOfScope(`project:${beta.id}`);
    assert.ok(alphaVolume && betaVolume && alphaVolume !== betaVolume);
    // The sweep's order: the store knows when each key was used last.
    assert.equal((await store.caches.lastUses()).size >= 2, true);
  });

  test("a fork's pull request writes a cache of its own, which the default branch never reads", async () => {
    const gamma = await projectWithRepo('gamma');
    const fork: Trigger = { event: 'pull_request', branch: 'feature', fork: true };
    const forkLines = await run(gamma, fork);
    assert.ok(forkLines.includes('cache empty'), forkLines.join('\n'));
    const mainLines = await run(gamma, { event: 'push', branch: 'main' });
    assert.ok(mainLines.includes('cache empty'), mainLines.join('\n'));
    // The fork's tier is still its own: its next run finds what it wrote, not main's.
    const forkAgain = await run(gamma, fork);
    assert.ok(forkAgain.includes('found gamma feature'), forkAgain.join('\n'));
    const forkVolumes = await volumesOfScope(`project:${gamma.id}:fork:deleted-fork-branch:feature`);
    assert.equal(forkVolumes.length, 1);
  });

  test("the sweep removes older keys and the least used past the budget, never one in use nor another server's", async () => {
    const delta = await store.projects.create({
      name: 'delta',
      repo: join(root, 'none.git'),
      max_concurrent: 1,
    });
    // A project of another gbcms server on the same engine, with a database of its own.
    const theirsId = `theirs-${randomBytes(6).toString('hex')}`;
    const scope = `project:${delta.id}`;
    const volume = async (cache: Omit<StepCache, 'path' | 'key'>, mib: number, usedAt?: string) => {
      const key = randomBytes(32).toString('hex');
      await docker.createVolume(cacheVolumeOptions({ path: 'deps', key, ...cache }));
      made.add(cacheVolumeName(key));
      if (mib > 0) {
        const container = await docker.run(
          BUSYBOX_IMAGE,
          ['dd', 'if=/dev/zero', 'of=/c/data', 'bs=1048576', `count=${mib}`],
          new PassThrough().resume(),
          {
            HostConfig: {
              NetworkMode: 'none',
              Mounts: [{ Type: 'volume', Source: cacheVolumeName(key), Target: '/c' }],
            },
          },
        );
        await (container[1] as { remove(): Promise<void> }).remove();
      }
      if (usedAt !== undefined) {
        clock = new Date(usedAt);
        await store.caches.touch({ key, projectId: cache.scope.split(':')[1] ?? '', ...cache });
      }
      return key;
    };
    const slot = (n: number) => String(n).repeat(64).slice(0, 64);
    const oldKey = await volume({ scope, slot: slot(1) }, 0, '2030-01-02T00:00:00Z');
    const newKey = await volume({ scope, slot: slot(1) }, 0, '2030-01-03T00:00:00Z');
    const leastUsed = await volume({ scope, slot: slot(2) }, 2, '2030-01-02T12:00:00Z');
    const recent = await volume({ scope, slot: slot(3) }, 2, '2030-01-05T00:00:00Z');
    const theirs = await volume({ scope: `project:${theirsId}`, slot: slot(1) }, 0);
    const notOurs = await volume({ scope: `repository:${root}`, slot: slot(1) }, 0);
    // Older than its slot's newest, but a container has it mounted: it stays.
    const busyOld = await volume({ scope, slot: slot(4) }, 0, '2030-01-02T00:00:00Z');
    await volume({ scope, slot: slot(4) }, 0, '2030-01-03T00:00:00Z');
    const holder = await docker.createContainer({
      Image: BUSYBOX_IMAGE,
      Cmd: ['true'],
      HostConfig: {
        NetworkMode: 'none',
        Mounts: [{ Type: 'volume', Source: cacheVolumeName(busyOld), Target: '/c' }],
      },
    });

    // What the sweep removed and why, for the failure messages below.
    const removals: string[] = [];
    const sweepLogger = {
      ...logger,
      info: (details: object, message: string) => removals.push(`${message}: ${JSON.stringify(details)}`),
    };
    const sweeper = new ExecutionManager({
      store,
      backend: new DockerBackend({ logger }),
      dataDir: join(root, 'data'),
      logger: sweepLogger,
      cacheBudgetBytes: 3 * 1024 ** 2,
      // Over a week after the older keys' last use.
      now: () => new Date('2030-01-12T00:00:00Z'),
    });
    try {
      await sweeper.sweeps.caches();
    } finally {
      await holder.remove({ force: true });
    }
    // Gone is a 404; any other failure of the engine is the test's error, not an answer.
    const exists = async (key: string) =>
      docker
        .getVolume(cacheVolumeName(key))
        .inspect()
        .then(
          () => true,
          (error: { statusCode?: number }) => {
            if (error.statusCode === 404) return false;
            throw error;
          },
        );
    assert.equal(await exists(oldKey), false, 'an older key of a slot is unreachable');
    assert.equal(await exists(leastUsed), false, 'past the budget, the least recently used goes');
    assert.equal(await exists(newKey), true, `the newest key of its slot stays\n${removals.join('\n')}`);
    assert.equal(
      await exists(recent),
      true,
      `within the budget once the least used went\n${removals.join('\n')}`,
    );
    assert.equal(await exists(busyOld), true, 'a cache in use is never removed');
    assert.equal(await exists(notOurs), true, "a gbcms run's cache is not the server's to remove");
    assert.equal(await exists(theirs), true, "a project this database does not have is another server's");
    const uses = await store.caches.lastUses();
    assert.equal(uses.has(oldKey) || uses.has(leastUsed), false, 'removed caches are forgotten');
    const { Volumes } = await docker.listVolumes({ filters: { label: [`${LABEL_CACHE_SLOT}=${slot(2)}`] } });
    assert.deepEqual(
      (Volumes ?? []).filter((v) => v.Labels?.[LABEL_CACHE_SCOPE] === scope),
      [],
    );
  });
});
