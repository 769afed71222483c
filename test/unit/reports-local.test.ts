// Step reports on the local backend: $GBCMS_REPORTS in the scratch workspace, JUnit read from
// it, and the engine's readStepFile (through fetchArchive) never following a symlink.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { readStepFile } from '../../engine/artifacts/read-file.ts';
import { LocalBackend } from '../../engine/backends/local/backend.ts';
import type { RunContext } from '../../engine/backends/types.ts';
import type { RunEvent } from '../../engine/events.ts';
import { runPipeline } from '../../engine/run.ts';
import { readRunInputs } from '../../engine/run-inputs.ts';
import { beforeHang } from '../helpers/hang.ts';
import { planOf, tempDir } from '../helpers/plans.ts';
import { sandboxTestOptions } from '../helpers/sandbox.ts';

const image = 'ignored:latest';

for (const sandbox of [false, true]) {
  const options = sandbox ? await sandboxTestOptions() : {};

  describe(`reports on the local backend (${sandbox ? 'bubblewrap' : 'plain processes'})`, options, () => {
    test('the reports file and a JUnit file in the scratch workspace are read', async () => {
      const events: RunEvent[] = [];
      const run = await runPipeline(
        planOf({
          fit: {
            image,
            commands: [
              'echo "::gbcms progress 1/2"',
              `echo '{"type":"metric","name":"loss","value":0.5}' >> "$GBCMS_REPORTS"`,
              `printf '<testsuite name="s"><testcase name="t"/></testsuite>' > junit.xml`,
            ],
            reports: { junit: 'junit.xml' },
          },
        }),
        { backend: new LocalBackend({ sandbox }), runsDir: tempDir(), observer: (e) => events.push(e) },
      );
      assert.equal(run.status, 'success');
      const reports = events.flatMap((e) => (e.type === 'report' ? [e.report.type] : []));
      assert.deepEqual(reports, ['progress', 'metric', 'tests']);
      assert.deepEqual(run.reports.fit?.metrics, { loss: { last: 0.5, count: 1, min: 0.5, max: 0.5 } });
      assert.equal(run.reports.fit?.tests?.tests, 1);
    });
  });
}

describe('local readStepFile', () => {
  test('reads regular files in the workspace only, never through a symlink', async () => {
    const backend = new LocalBackend({ sandbox: false });
    const plan = planOf({
      files: {
        image,
        commands: [
          'printf 0123456789 > data.txt',
          'ln -s /etc/passwd .gbcms/reports/files.jsonl',
          'ln -s /etc .gbcms/etc',
          'ln -s data.txt inside-link',
          'mkdir folder',
          'ln -s / up',
          'mkfifo pipe',
        ],
      },
    });
    const run: RunContext = {
      id: randomBytes(16).toString('base64url'),
      plan,
      dir: tempDir(),
      secrets: {},
      env: {},
      notice: () => undefined,
    };
    const step = plan.steps[0]!;
    try {
      await backend.setupRun(run, await readRunInputs(plan, run.notice));
      await backend.startStep(step, run);
      const exit = await backend.waitStep(step, run, new AbortController().signal, 1000);
      assert.equal(exit.exitCode, 0);
      const read = (path: string, from: number, max?: number) =>
        readStepFile(backend, step, run, path, from, max);
      assert.equal((await read('data.txt', 0))?.toString(), '0123456789');
      assert.equal((await read('data.txt', 2, 3))?.toString(), '234');
      assert.equal((await read('data.txt', 99))?.length, 0);
      // A link is a link, even one that stays inside: the same as on Docker.
      assert.equal(await read('inside-link', 0), undefined);
      assert.equal(await read('.gbcms/reports/files.jsonl', 0), undefined);
      await assert.rejects(read('.gbcms/etc/passwd', 0), /leads out of the workspace/);
      await assert.rejects(read('up/etc/passwd', 0), /leads out of the workspace/);
      assert.equal(await read('../../etc/passwd', 0), undefined);
      assert.equal(await read('/etc/passwd', 0), undefined);
      assert.equal(await read('folder', 0), undefined);
      // A FIFO (a JUnit file a step replaced) is not a file, and reading it never blocks.
      assert.equal(await beforeHang(read('pipe', 0), 'reading a FIFO'), undefined);
      assert.equal(await read('missing', 0), undefined);
      assert.equal(await read('missing/below', 0), undefined);
      await backend.destroyStep(step, run);
      assert.equal(await read('data.txt', 0), undefined);
    } finally {
      await backend.destroyRun(run.id);
    }
  });
});
