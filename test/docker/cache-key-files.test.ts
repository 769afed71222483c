// Hostile cache key files under `gbcms run`, on both backends: a committed link to /dev/zero
// or to a host file, a FIFO and an oversized file each end the step `error` at once with a
// message naming the file, and the host file's content never reaches a key. `gbcms run` runs
// as a child process, so a reader that blocks or eats memory fails the test, not the runner.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MAX_KEY_FILE_BYTES } from '../../engine/cache.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { gbcmsChild } from '../helpers/cli-child.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { tempDir } from '../helpers/plans.ts';

/** `gbcms run DIR --backend B --json`, its local caches in a folder of the test's own. */
function gbcmsRun(dir: string, backend: 'docker' | 'local') {
  const env = { XDG_CACHE_HOME: join(dir, '..', 'xdg-cache') };
  return gbcmsChild(['run', dir, '--backend', backend, '--json'], { cwd: dir, env });
}

type Plant = (dir: string) => void;

const CASES: Array<{ name: string; plant: Plant; why: RegExp }> = [
  {
    name: 'a link to /dev/zero',
    plant: (dir) => symlinkSync('/dev/zero', join(dir, 'lock.json')),
    why: /'lock\.json' is a symbolic link that leads out of the workspace/,
  },
  {
    name: 'a link to /etc/passwd',
    plant: (dir) => symlinkSync('/etc/passwd', join(dir, 'lock.json')),
    why: /'lock\.json' is a symbolic link that leads out of the workspace/,
  },
  {
    name: 'a FIFO',
    plant: (dir) => execFileSync('mkfifo', [join(dir, 'lock.json')]),
    why: /'lock\.json' is a FIFO/,
  },
  {
    name: 'an oversized file',
    plant: (dir) => {
      writeFileSync(join(dir, 'lock.json'), '');
      truncateSync(join(dir, 'lock.json'), MAX_KEY_FILE_BYTES + 1);
    },
    why: /'lock\.json' is larger than 64 MiB/,
  },
];

function project(plant: Plant): string {
  const dir = join(tempDir('gbcms-keyfile-'), 'repo');
  mkdirSync(dir);
  writeFileSync(
    join(dir, '.gbcms.yml'),
    [
      'version: 1',
      'name: keyfiles',
      'steps:',
      '  install:',
      `    image: ${BUSYBOX_IMAGE}`,
      '    commands: [echo should-not-run]',
      '    cache:',
      '      - path: deps',
      '        key: [lock.json]',
      '  other:',
      `    image: ${BUSYBOX_IMAGE}`,
      '    depends_on: []',
      '    commands: [echo other-ran]',
      '',
    ].join('\n'),
  );
  plant(dir);
  return dir;
}

function stepsOf(output: string): Record<string, { status: string; reason: string | null }> {
  const json = output.slice(output.indexOf('{\n'));
  const record = JSON.parse(json) as {
    steps: Array<{ name: string; status: string; reason: string | null }>;
  };
  return Object.fromEntries(record.steps.map((s) => [s.name, { status: s.status, reason: s.reason }]));
}

for (const backend of ['docker', 'local'] as const) {
  const options = backend === 'docker' ? await dockerTestOptions() : { skip: false as const };
  describe(`gbcms run (${backend}): hostile cache key files`, options, () => {
    for (const { name, plant, why } of CASES) {
      test(`${name} ends the step error, naming the file; other steps still run`, async () => {
        if (backend === 'docker') await ensureBusyboxImage();
        const { code, output } = await gbcmsRun(project(plant), backend);
        assert.equal(code, 2, output);
        const steps = stepsOf(output);
        assert.equal(steps.install?.status, 'error', output);
        assert.match(steps.install?.reason ?? '', /^cache key file /);
        assert.match(steps.install?.reason ?? '', why);
        assert.equal(steps.other?.status, 'success', output);
        assert.doesNotMatch(output, /should-not-run/);
        assert.doesNotMatch(output, /root:x:0:0/);
      });
    }
  });
}
