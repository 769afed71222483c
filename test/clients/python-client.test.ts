// The Python client (clients/python): installed with pip, offline, into a folder of its own,
// then its unittest suite runs against a real `gbcms serve` it starts (clients/python/tests).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HANG_MS } from '../helpers/poll.ts';

const client = join(import.meta.dirname, '..', '..', 'clients', 'python');
const bin = join(import.meta.dirname, '..', '..', 'bin', 'gbcms.js');
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Runs a command to its end; its exit code and everything it wrote. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number | null; output: string; stdout: string }>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, stdout }));
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

test('inside a gbcms step the same code reports through the protocol', { timeout: HANG_MS }, async () => {
  const project = await mkdtemp(join(tmpdir(), 'gbcms-py-step-'));
  dirs.push(project);
  // The package goes into the workspace: a sandboxed step sees nothing of the host's /tmp,
  // where a CI checkout may live.
  await cp(join(client, 'gbcms_report'), join(project, 'vendor', 'gbcms_report'), { recursive: true });
  await writeFile(
    join(project, '.gbcms.yml'),
    `version: 1
steps:
  train:
    image: python:3
    commands: [python3 train.py]
    env:
      PYTHONPATH: vendor
      PYTHONDONTWRITEBYTECODE: "1"
`,
  );
  await writeFile(
    join(project, 'train.py'),
    `from gbcms_report import Reporter
with Reporter(name="train") as report:
    for epoch in range(3):
        report.metric("loss", 1 / (epoch + 1), step=epoch)
    report.progress(3, 3, "done")
    raise RuntimeError("diverged")
`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.GBCMS_STEP;
  delete env.GBCMS_URL;
  const ran = await run(process.execPath, [bin, 'run', project, '--backend', 'local', '--json'], env);
  assert.equal(ran.code, 1, ran.output);
  const record = JSON.parse(ran.stdout) as {
    status: string;
    reports: Record<
      string,
      {
        metrics: Record<string, { count: number; last: number }>;
        annotations: { level: string; file?: string; line?: number; title?: string }[];
        progress?: { done: number };
      }
    >;
  };
  assert.equal(record.status, 'failure');
  const train = record.reports.train;
  assert.ok(train, `no reports from the step:\n${ran.output}`);
  assert.deepEqual(train?.metrics.loss && [train.metrics.loss.count, train.metrics.loss.last], [3, 1 / 3]);
  assert.equal(train?.progress?.done, 3);
  assert.deepEqual(
    train?.annotations.map(({ level, file, line, title }) => ({ level, file, line, title })),
    [{ level: 'error', file: 'train.py', line: 6, title: 'RuntimeError: diverged' }],
  );
});
