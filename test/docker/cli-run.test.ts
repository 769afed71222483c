// `gbcms run` end to end on a real Docker engine: the examples, exit codes, the JSON
// summary, timeouts, memory limits, and Ctrl-C cleaning up after itself.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureBusyboxImage } from '../helpers/build-images.ts';
import { gbcms } from '../helpers/cli.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { beforeHang } from '../helpers/hang.ts';
import { tempDir } from '../helpers/plans.ts';
import { HANG_MS } from '../helpers/poll.ts';

const repo = join(import.meta.dirname, '..', '..');

interface Summary {
  id: string;
  status: string;
  dir: string;
  steps: Array<{
    name: string;
    status: string;
    exit_code: number | null;
    reason: string | null;
    log: string;
  }>;
  artifacts: Array<{ step: string; path: string; size: number; sha256: string }>;
}

function example(name: string): string {
  const dir = join(tempDir(), name);
  cpSync(join(repo, 'examples', name), dir, { recursive: true });
  return dir;
}

async function runJson(dir: string, ...args: string[]) {
  const result = await gbcms(['run', dir, '--backend', 'docker', '--json', ...args], { cwd: dir });
  return { ...result, summary: result.stdout ? (JSON.parse(result.stdout) as Summary) : undefined };
}

function pipeline(yaml: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, '.gbcms.yml'), yaml);
  return dir;
}

async function leftovers(runId: string): Promise<number> {
  const filters = { label: [`gbcms.run=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const { Volumes } = await docker.listVolumes({ filters });
  return containers.length + (Volumes?.length ?? 0);
}

describe('gbcms run on Docker', await dockerTestOptions(), () => {
  before(async () => {
    await ensureBusyboxImage();
  });

  test('hello: two steps succeed in hardened containers', async () => {
    const { code, summary, stderr } = await runJson(example('hello'));
    assert.equal(code, 0, stderr);
    assert.equal(summary?.status, 'success');
    const log = readFileSync(join(summary!.dir, summary!.steps[1]!.log), 'utf8');
    assert.match(log, /CapEff:\\t0000000000000000/);
    assert.match(log, /root filesystem is read-only/);
    assert.match(log, /workspace is writable/);
    assert.equal(await leftovers(summary!.id), 0);
  });

  test('dag: parallel steps and an artifact with its size and sha256', async () => {
    const { code, summary } = await runJson(example('dag'));
    assert.equal(code, 0);
    assert.deepEqual(
      summary?.steps.map((s) => s.status),
      ['success', 'success', 'success', 'success'],
    );
    const artifact = summary?.artifacts.find((a) => a.path === 'report/report/summary.txt');
    assert.ok(artifact, JSON.stringify(summary?.artifacts));
    const text = readFileSync(join(summary!.dir, 'artifacts', artifact.path), 'utf8');
    assert.match(text, /^lines: 1000\n[0-9a-f]{64} {2}out\/numbers.txt\n$/);
    assert.equal(artifact.size, Buffer.byteLength(text));
  });

  test('allow-failure: the run succeeds with a failed step', async () => {
    const { code, summary } = await runJson(example('allow-failure'));
    assert.equal(code, 0);
    assert.deepEqual(
      summary?.steps.map((s) => [s.name, s.status, s.reason]),
      [
        ['experimental-check', 'failure', 'exit code 3'],
        ['build', 'success', null],
      ],
    );
  });

  test('build-env: an environment built from a Dockerfile', async () => {
    const { code, summary } = await runJson(example('build-env'));
    assert.equal(code, 0);
    const log = readFileSync(join(summary!.dir, summary!.steps[0]!.log), 'utf8');
    assert.match(log, /built by gbcms/);
    assert.match(log, /tools 1.0/);
  });

  test('matrix: one step per combination', async () => {
    const { code, summary } = await runJson(example('matrix'));
    assert.equal(code, 0);
    assert.deepEqual(summary?.steps.map((s) => s.name).slice(0, 4), [
      'test (size=small, mode=fast)',
      'test (size=small, mode=thorough)',
      'test (size=large, mode=fast)',
      'test (size=large, mode=thorough)',
    ]);
  });

  test('a failing step: exit 1, and what depends on it is skipped', async () => {
    const dir = pipeline(
      'version: 1\nsteps:\n  a:\n    image: busybox:stable\n    commands: ["exit 4"]\n  b:\n    image: busybox:stable\n    commands: ["true"]\n',
    );
    const { code, summary } = await runJson(dir);
    assert.equal(code, 1);
    assert.deepEqual(
      summary?.steps.map((s) => [s.status, s.exit_code]),
      [
        ['failure', 4],
        ['skipped', null],
      ],
    );
  });

  test('a step past its timeout is stopped: failure with the reason', async () => {
    const dir = pipeline(
      `version: 1\nsteps:\n  slow:\n    image: busybox:stable\n    timeout: 2s\n    commands: ["sleep ${(10 * HANG_MS) / 1000}"]\n`,
    );
    // The step would sleep ten times the hang limit: the run ends in time only if it is stopped.
    const { code, summary } = await beforeHang(runJson(dir), 'the run');
    assert.equal(code, 1);
    assert.equal(summary?.steps[0]?.reason, 'timed out after 2.0s');
    assert.equal(await leftovers(summary!.id), 0);
  });

  test('a step past its memory limit: failure, out of memory', async () => {
    const dir = pipeline(
      'version: 1\nenvironments:\n  small:\n    image: busybox:stable\n    resources: { memory: 32m, tmp: 8m }\nsteps:\n  hog:\n    environment: small\n    commands: ["head -c 300m /dev/zero | tail > /dev/null"]\n',
    );
    const { code, summary } = await runJson(dir);
    assert.equal(code, 1);
    assert.equal(summary?.steps[0]?.reason, 'out of memory');
  });

  test('an invalid file runs nothing and exits 2 with FILE:LINE:COL', async () => {
    const dir = pipeline(
      'version: 1\nsteps:\n  a:\n    image: busybox:stable\n    commands: ["true"]\n    timeout: 10 minutes\n',
    );
    const { code, stderr } = await runJson(dir);
    assert.equal(code, 2);
    assert.match(stderr, /\.gbcms\.yml:6:\d+: error/);
  });

  test('Ctrl-C terminates the run and removes its containers and volume', async () => {
    const dir = pipeline(
      'version: 1\nsteps:\n  wait:\n    image: busybox:stable\n    commands: ["sleep 300"]\n  next:\n    image: busybox:stable\n    commands: ["true"]\n',
    );
    const child = spawn(
      process.execPath,
      [join(repo, 'bin', 'gbcms.js'), 'run', '--json', '--backend', 'docker'],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    let stderr = '';
    const running = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('wait: running')) resolve();
      });
    });
    await running;
    // Give the container a moment to be really up before interrupting.
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 130, stderr);
    const summary = JSON.parse(stdout) as Summary;
    assert.deepEqual(
      summary.steps.map((s) => s.status),
      ['killed', 'skipped'],
    );
    assert.equal(await leftovers(summary.id), 0);
    assert.ok(existsSync(join(summary.dir, 'run.json')));
  });

  test('after gbcms itself is killed (-9), the next run marks the old one error and removes its containers', async () => {
    const dir = pipeline(
      'version: 1\nsteps:\n  wait:\n    image: busybox:stable\n    commands: ["sleep 300"]\n',
    );
    const child = spawn(process.execPath, [join(repo, 'bin', 'gbcms.js'), 'run', '--backend', 'docker'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('wait: running')) resolve();
      });
    });
    const runId = readdirSync(join(dir, '.gbcms', 'runs'))[0]!;
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // The crash left the container behind, and run.json says running.
    assert.ok((await leftovers(runId)) > 0);
    const crashed = JSON.parse(
      readFileSync(join(dir, '.gbcms', 'runs', runId, 'run.json'), 'utf8'),
    ) as Summary;
    assert.equal(crashed.status, 'running');

    writeFileSync(
      join(dir, '.gbcms.yml'),
      'version: 1\nsteps:\n  quick:\n    image: busybox:stable\n    commands: ["true"]\n',
    );
    const { code, stdout, stderr } = await gbcms(['run', dir, '--backend', 'docker'], { cwd: dir });
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(`note: run ${runId} was left running by a gbcms process that ended`));
    assert.equal(await leftovers(runId), 0);
    const recovered = JSON.parse(
      readFileSync(join(dir, '.gbcms', 'runs', runId, 'run.json'), 'utf8'),
    ) as Summary;
    assert.equal(recovered.status, 'error');
    assert.deepEqual(
      recovered.steps.map((s) => s.status),
      ['error'],
    );
    assert.match(recovered.steps[0]?.reason ?? '', /engine restarted/);
  });

  after(async () => {
    // Nothing of these runs may be left; each test checked its own, this is the net.
    const containers = await docker.listContainers({ all: true, filters: { label: ['gbcms.managed=true'] } });
    assert.equal(containers.filter((c) => c.Labels['gbcms.run']?.startsWith('bench-') === false).length, 0);
  });
});
