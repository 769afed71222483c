// A local run whose gbcms process is killed with SIGKILL leaves its scratch folder and its step
// processes behind (plain processes outlive their parent). The next `gbcms run` recovers it
// from the run id alone: the run is recorded `error`, the processes stopped, the folder gone.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LocalBackend } from '../../engine/backends/local/backend.ts';
import { recoverCrashedRuns } from '../../engine/recovery.ts';
import type { RunRecord } from '../../engine/run-record.ts';
import { tempDir } from '../helpers/plans.ts';
import { pollUntil, processesWith } from '../helpers/poll.ts';

const child = join(import.meta.dirname, '..', 'helpers', 'local-run-child.ts');

describe('local backend after a crash', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const process of children) process.kill('SIGKILL');
  });

  test('kill -9 mid-step, then recovery: run error, step processes stopped, nothing left', async () => {
    const runsDir = tempDir();
    const scratchRoot = tempDir();
    const id = randomBytes(16).toString('base64url');
    const marker = `gbcms-crash-${randomBytes(6).toString('hex')}`;
    const running = spawn(process.execPath, ['--import', 'tsx', child, runsDir, scratchRoot, id, marker], {
      stdio: 'inherit',
    });
    children.push(running);
    const exited = once(running, 'exit');

    const scratch = await pollUntil('the run to note its step process', () => {
      const folder = readdirSync(scratchRoot).find((entry) => entry.startsWith(`gbcms-local-${id}.`));
      if (folder === undefined) return undefined;
      const noted = readdirSync(join(scratchRoot, folder)).includes('processes.jsonl');
      return noted && folder;
    });
    await pollUntil('the step to run', async () => (await processesWith(marker, '/bin/sh')).length > 0);
    running.kill('SIGKILL');
    await exited;
    assert.deepEqual(readdirSync(scratchRoot), [scratch], 'the crash left the scratch folder');
    assert.equal((await processesWith(marker, '/bin/sh')).length, 1, 'the crash left the step running');

    const recovered = await recoverCrashedRuns(runsDir, new LocalBackend({ scratchRoot }));
    assert.deepEqual(
      recovered.map((run) => run.id),
      [id],
    );
    assert.deepEqual(readdirSync(scratchRoot), []);
    await pollUntil(
      'the step processes to end',
      async () => (await processesWith(marker, '/bin/sh')).length === 0,
    );
    const record = JSON.parse(readFileSync(join(runsDir, id, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(record.status, 'error');
    assert.deepEqual(
      record.steps.map((step) => [step.name, step.status]),
      [
        ['sleeper', 'error'],
        ['later', 'error'],
      ],
    );
    assert.match(record.steps[1]?.reason ?? '', /^engine restarted/);
    assert.equal(record.steps[1]?.ended_at, null, 'a step that never started has no end');
    assert.deepEqual(await recoverCrashedRuns(runsDir, new LocalBackend({ scratchRoot })), [], 'once');
  });
});
