// The Python client (clients/python): installed with pip, offline, into a folder of its own,
// then its unittest suite runs against a real `gbcms serve` it starts (clients/python/tests).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HANG_MS } from '../helpers/poll.ts';

const client = join(import.meta.dirname, '..', '..', 'clients', 'python');
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Runs a command to its end; its exit code and everything it wrote. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('the Python client installs offline and passes its suite against gbcms serve', {
  timeout: HANG_MS,
}, async () => {
  const target = await mkdtemp(join(tmpdir(), 'gbcms-py-'));
  dirs.push(target);
  const install = await run('python3', [
    '-m',
    'pip',
    'install',
    '--no-index',
    '--disable-pip-version-check',
    '--quiet',
    '--target',
    target,
    client,
  ]);
  assert.equal(install.code, 0, install.output);
  assert.deepEqual((await readdir(join(target, 'gbcms_report'))).includes('py.typed'), true);

  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: target, PYTHONDONTWRITEBYTECODE: '1' };
  delete env.GBCMS_STEP;
  const suite = await run('python3', ['-m', 'unittest', 'discover', '-v', '-s', join(client, 'tests')], env);
  assert.equal(suite.code, 0, suite.output);
  // Every test ran: none was skipped, and the count is the suite's.
  assert.match(suite.output, /\nRan 12 tests in /);
  assert.doesNotMatch(suite.output, /skipped/);
});
