// Caches on the real Docker engine: named volumes that outlive their runs, keyed by the
// contents of key files, owned by the step user, mounted inside the workspace and the home.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { cacheVolumeName } from '../../engine/backends/docker/convert.ts';
import {
  LABEL_CACHE,
  LABEL_CACHE_SCOPE,
  LABEL_CACHE_SLOT,
  LABEL_RUN,
  labelFilter,
} from '../../engine/backends/docker/labels.ts';
import type { RunContext } from '../../engine/backends/types.ts';
import { repositoryCacheScope, resolveStepCaches } from '../../engine/cache.ts';
import { readLogFile } from '../../engine/logs/log-line.ts';
import type { Plan } from '../../engine/plan.ts';
import { runPipeline } from '../../engine/run.ts';
import { readRunInputs } from '../../engine/run-inputs.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { planOf, tempDir } from '../helpers/plans.ts';

const volumes = new Set<string>();

function cachePlan(workspace: string, commands: [string, ...string[]]): Plan {
  return planOf(
    {
      install: {
        image: BUSYBOX_IMAGE,
        commands,
        cache: [{ path: 'node_modules', key: ['package-lock.json'] }, { path: '/home/gbcms/.npm' }],
      },
    },
    { workspace },
  );
}

/** The volume names this plan's caches get, remembered for the clean-up. */
async function cacheVolumes(plan: Plan): Promise<string[]> {
  const step = plan.steps[0];
  assert.ok(step);
  const names = (
    await resolveStepCaches(plan, step, await repositoryCacheScope(plan.workspace), () => undefined)
  ).map((c) => cacheVolumeName(c.key));
  for (const name of names) volumes.add(name);
  return names;
}

async function run(plan: Plan) {
  const runsDir = tempDir();
  const record = await runPipeline(plan, { backend: new DockerBackend({ docker }), runsDir, graceMs: 500 });
  const log = (await readLogFile(join(runsDir, record.id, record.steps[0]?.log ?? '')))
    .map((l) => l.text)
    .join('\n');
  return { record, log };
}

async function volumeLabels(name: string): Promise<Record<string, string> | undefined> {
  try {
    return (await docker.getVolume(name).inspect()).Labels ?? {};
  } catch {
    return undefined;
  }
}

describe('docker backend: cache', await dockerTestOptions(), () => {
  before(async () => {
    await ensureBusyboxImage();
  });

  after(async () => {
    const { Volumes: labelled } = await docker.listVolumes({ filters: labelFilter(LABEL_CACHE, 'true') });
    for (const volume of labelled ?? []) {
      if (volumes.has(volume.Name)) await docker.getVolume(volume.Name).remove();
    }
  });

  test('a later run sees the files; a changed key file gives an empty cache; destroyRun keeps it', async () => {
    const workspace = tempDir();
    // A random lock keeps this test's keys apart from any earlier run of it.
    writeFileSync(join(workspace, 'package-lock.json'), randomBytes(8).toString('hex'));
    const marker = randomBytes(8).toString('hex');
    const writePlan = cachePlan(workspace, [
      'test ! -e node_modules/marker',
      'test ! -e "$HOME/.npm/marker"',
      `echo ${marker} > node_modules/marker`,
      `echo ${marker} > "$HOME/.npm/marker"`,
    ]);
    const names = await cacheVolumes(writePlan);
    const first = await run(writePlan);
    assert.equal(first.record.status, 'success', first.log);
    for (const name of names) {
      const labels = await volumeLabels(name);
      assert.ok(labels, `${name} survives the run's destroyRun`);
      assert.equal(labels[LABEL_CACHE], 'true');
      assert.equal(labels['gbcms.managed'], 'true');
      // Found again by the sweep: whose it is (this folder, outside git) and which slot.
      assert.equal(labels[LABEL_CACHE_SCOPE], `repository:${realpathSync(workspace)}`);
      assert.match(labels[LABEL_CACHE_SLOT] ?? '', /^[0-9a-f]{64}$/);
      assert.equal(labels[LABEL_RUN], undefined);
    }

    const readPlan = cachePlan(workspace, ['cat node_modules/marker', 'cat "$HOME/.npm/marker"', 'id -u']);
    assert.deepEqual(await cacheVolumes(readPlan), names);
    const second = await run(readPlan);
    assert.equal(second.record.status, 'success', second.log);
    assert.equal(second.log.split(marker).length - 1 >= 2, true, second.log);

    writeFileSync(join(workspace, 'package-lock.json'), randomBytes(8).toString('hex'));
    const freshPlan = cachePlan(workspace, [
      'test ! -e node_modules/marker',
      'touch node_modules/writable',
      'cat "$HOME/.npm/marker"',
    ]);
    const freshNames = await cacheVolumes(freshPlan);
    assert.notEqual(freshNames[0], names[0]);
    // No key files: the path alone keys the home cache, so it is kept across lock changes.
    assert.equal(freshNames[1], names[1]);
    const fresh = await run(freshPlan);
    assert.equal(fresh.record.status, 'success', fresh.log);
    assert.match(fresh.log, new RegExp(marker));
  });

  test('crash recovery by run label removes the run, not its caches', async () => {
    const workspace = tempDir();
    writeFileSync(join(workspace, 'package-lock.json'), randomBytes(8).toString('hex'));
    const plan = cachePlan(workspace, ['true']);
    const names = await cacheVolumes(plan);
    const backend = new DockerBackend({ docker });
    const id = randomBytes(16).toString('base64url');
    const context: RunContext = {
      id,
      plan,
      dir: workspace,
      secrets: {},
      env: {},
      notice: () => undefined,
    };
    await backend.setupRun(context, await readRunInputs(plan, context.notice));
    for (const name of names) assert.ok(await volumeLabels(name), `${name} exists after setupRun`);
    // What the server does for a run a crash left behind: a new backend knows only the id.
    await new DockerBackend({ docker }).destroyRun(id);
    const { Volumes: left } = await docker.listVolumes({ filters: labelFilter(LABEL_RUN, id) });
    assert.deepEqual(left ?? [], []);
    for (const name of names) assert.ok(await volumeLabels(name), `${name} survives recovery`);
  });
});
