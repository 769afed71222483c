// The local backend on the real host: processes, the scratch workspace, artifacts, stops
// that reach the whole process group, and the bubblewrap sandbox when it is installed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LocalBackend } from '../../engine/backends/local/backend.ts';
import type { RunEvent } from '../../engine/events.ts';
import { readLogFile } from '../../engine/logs/log-line.ts';
import { runPipeline } from '../../engine/run.ts';
import { planOf, tempDir } from '../helpers/plans.ts';
import { pollUntil } from '../helpers/poll.ts';
import { sandboxTestOptions } from '../helpers/sandbox.ts';

const image = 'ignored:latest';
const sandboxOptions = await sandboxTestOptions();

async function runLocal(steps: Parameters<typeof planOf>[0], workspace = tempDir(), sandbox?: boolean) {
  const events: RunEvent[] = [];
  const runsDir = tempDir();
  const run = await runPipeline(planOf(steps, { workspace }), {
    backend: new LocalBackend(sandbox === undefined ? {} : { sandbox }),
    runsDir,
    graceMs: 500,
    observer: (e) => events.push(e),
  });
  const logs = async (i: number) =>
    (await readLogFile(join(runsDir, run.id, run.steps[i]!.log))).map((l) => l.text).join('\n');
  return { run, events, logs, dir: join(runsDir, run.id) };
}

describe('local backend', () => {
  test('runs commands in a scratch copy of the workspace', async () => {
    const workspace = tempDir();
    writeFileSync(join(workspace, 'input.txt'), 'from the project\n');
    const { run, logs } = await runLocal(
      {
        a: { image, commands: ['cat input.txt', 'echo changed > input.txt', 'echo to-stderr >&2'] },
        b: { image, commands: ['cat input.txt'] },
      },
      workspace,
    );
    assert.equal(run.status, 'success');
    assert.match(await logs(0), /\+ cat input.txt\nfrom the project\n/);
    assert.match(await logs(0), /to-stderr/);
    // Steps share the scratch copy; the project itself is untouched.
    assert.match(await logs(1), /changed/);
    assert.equal(readFileSync(join(workspace, 'input.txt'), 'utf8'), 'from the project\n');
    assert.equal(run.backend, 'local');
  });

  test('workspace symlinks are copied as links, as the Docker backend keeps them', async () => {
    const workspace = tempDir();
    mkdirSync(join(workspace, 'sub'));
    writeFileSync(join(workspace, 'sub', 'f.txt'), 'in sub\n');
    symlinkSync('sub/f.txt', join(workspace, 'file-link'));
    symlinkSync('sub', join(workspace, 'dir-link'));
    const { run, logs } = await runLocal(
      { a: { image, commands: ['readlink file-link dir-link', 'cat dir-link/f.txt'] } },
      workspace,
      false,
    );
    assert.equal(run.status, 'success', await logs(0));
    assert.match(await logs(0), /^sub\/f\.txt\nsub\n/m);
    assert.match(await logs(0), /^in sub$/m);
  });

  test('says that it is not container isolation', async () => {
    const { events } = await runLocal({ a: { image, commands: ['true'] } });
    const notice = events.find((e) => e.type === 'notice');
    assert.ok(notice && notice.type === 'notice');
    assert.match(notice.message, /not container isolation/);
  });

  test('a failing command fails the step with its exit code', async () => {
    const { run } = await runLocal({ a: { image, commands: ['exit 7'] } });
    assert.deepEqual([run.steps[0]?.status, run.steps[0]?.exit_code], ['failure', 7]);
  });

  test('a timeout stops the whole process group, background children included', async () => {
    const marker = `gbcms-local-${process.pid}-${Date.now()}`;
    const { run } = await runLocal({
      slow: { image, timeout: '1s', commands: [`sh -c 'exec sleep 300' ${marker} & sleep 300`] },
    });
    assert.equal(run.steps[0]?.reason, 'timed out after 1.0s');
    // Killed processes take a moment to go; a child that outlived the step would stay 300 s.
    await pollUntil(
      'the step’s background child to go',
      () => !execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(marker),
    );
  });

  test('artifacts are copied out safely; a link out of the workspace is refused', async () => {
    const { run, dir } = await runLocal({
      build: {
        image,
        commands: ['mkdir -p dist && echo bundle > dist/app.js', 'ln -s /etc/passwd leak'],
        artifacts: ['dist/'],
      },
      leak: { image, commands: ['true'], artifacts: ['leak'] },
    });
    assert.equal(run.steps[0]?.status, 'success');
    assert.deepEqual(
      run.artifacts.map((a) => [a.path, a.size]),
      [['build/dist/app.js', 7]],
    );
    assert.equal(readFileSync(join(dir, 'artifacts', 'build', 'dist', 'app.js'), 'utf8'), 'bundle\n');
    assert.equal(run.steps[1]?.status, 'failure');
    assert.match(run.steps[1]?.reason ?? '', /artifact collection failed/);
    assert.ok(!existsSync(join(dir, 'artifacts', 'leak', 'leak')));
  });

  test('with bubblewrap: no network and a read-only host', sandboxOptions, async () => {
    const { run, logs } = await runLocal({
      probe: {
        image,
        commands: [
          'cat /proc/net/dev',
          'touch /usr/gbcms-probe 2>/dev/null && echo host-writable || echo host-read-only',
        ],
      },
    });
    assert.equal(run.status, 'success');
    const text = await logs(0);
    assert.match(text, /host-read-only/);
    assert.doesNotMatch(text, /eth0|ens|enp/);
  });
});
