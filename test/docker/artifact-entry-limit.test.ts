// An artifact with more entries than the limit is refused as soon as the limit is passed: the
// archive is read once and only up to the first entry past it (its stream destroyed there, not
// read to the end), and nothing of it is left behind. On both backends.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ArtifactError } from '../../engine/artifacts/artifact-error.ts';
import { collectArtifacts } from '../../engine/artifacts/collect.ts';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { LocalBackend } from '../../engine/backends/local/backend.ts';
import type { Backend, RunContext } from '../../engine/backends/types.ts';
import { readRunInputs } from '../../engine/run-inputs.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { planOf, tempDir } from '../helpers/plans.ts';

const LIMIT = 100;
const FILES = 5000;

const plan = planOf({
  many: {
    image: BUSYBOX_IMAGE,
    commands: [`mkdir dist && cd dist && seq 1 ${FILES} | xargs touch`],
    artifacts: ['dist/'],
  },
});
const step = plan.steps[0]!;

interface Fetched {
  stream: Readable;
  bytes: number;
  ended: boolean;
}

const backends: Array<{
  name: string;
  make: () => Backend;
  options: () => Promise<{ skip: string | false }>;
}> = [
  { name: 'local', make: () => new LocalBackend({ sandbox: false }), options: async () => ({ skip: false }) },
  { name: 'docker', make: () => new DockerBackend(), options: dockerTestOptions },
];

for (const { name, make, options } of backends) {
  describe(`the artifact entry limit on the ${name} backend`, await options(), () => {
    const backend = make();
    const run: RunContext = {
      id: randomBytes(16).toString('base64url'),
      plan,
      dir: tempDir(),
      secrets: {},
      env: {},
      notice: () => undefined,
    };
    before(async () => {
      if (name === 'docker') await ensureBusyboxImage();
      await backend.setupRun(run, await readRunInputs(plan, run.notice));
      await backend.startStep(step, run);
      for await (const _ of backend.tailStep(step, run));
      const exit = await backend.waitStep(step, run, new AbortController().signal, 1000);
      assert.equal(exit.exitCode, 0);
    });
    after(() => backend.destroyRun(run.id));

    test('is refused at the first entry past it, and nothing of it is left', async () => {
      const fetched: Fetched[] = [];
      const watched: Backend = Object.create(backend, {
        fetchArchive: {
          value: async (...args: Parameters<Backend['fetchArchive']>) => {
            const stream = await backend.fetchArchive(...args);
            if (stream === undefined) return undefined;
            const record: Fetched = { stream, bytes: 0, ended: false };
            stream.on('data', (chunk: Buffer) => {
              record.bytes += chunk.length;
            });
            stream.on('end', () => {
              record.ended = true;
            });
            fetched.push(record);
            return stream;
          },
        },
      });
      const destDir = tempDir();
      await assert.rejects(
        collectArtifacts(watched, step, run, { destDir, maxEntries: LIMIT, missing: () => undefined }),
        (error: unknown) => {
          assert.ok(error instanceof ArtifactError);
          assert.equal(error.code, 'GBCMS_ERR_ARTIFACT_TOO_MANY');
          assert.match(error.message, new RegExp(`more than ${LIMIT} entries`));
          return true;
        },
      );
      // What the extraction wrote before the entry past the limit is removed with the refusal.
      const left = existsSync(join(destDir, 'dist')) ? readdirSync(join(destDir, 'dist')) : [];
      assert.deepEqual(left, []);
      assert.equal(fetched.length, 1, 'the archive was read once');
      const [read] = fetched;
      assert.equal(read?.ended, false, 'the archive was not read to its end');
      assert.ok(read?.stream.destroyed, 'the archive stream was destroyed at the refusal');
      // Each empty file is a 512-byte header: the whole archive is over FILES of them.
      assert.ok((read?.bytes ?? 0) < (FILES * 512) / 4, `read ${read?.bytes} bytes of over ${FILES * 512}`);
    });
  });
}
