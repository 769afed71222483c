// `gbcms run` at approval gates, on the local backend: --approve, no terminal, and a y/N
// question answered at a (simulated) terminal.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import type { CliIO } from '../../engine/cli/io.ts';
import { runCommand as runCli } from '../../engine/cli/run.ts';
import type { RunRecord } from '../../engine/run-record.ts';
import { runCommand } from '../helpers/cli.ts';
import { beforeHang } from '../helpers/hang.ts';
import { tempDir } from '../helpers/plans.ts';

const PIPELINE = `version: 1
name: gates
steps:
  build:
    image: ignored:latest
    commands: [echo built]
  deploy:
    image: ignored:latest
    depends_on: [build]
    approval:
      message: Deploy to production?
    commands: [echo deployed]
  notify:
    image: ignored:latest
    depends_on: [deploy]
    commands: [echo notified]
`;

async function project(): Promise<string> {
  const dir = tempDir();
  await writeFile(join(dir, '.gbcms.yml'), PIPELINE);
  return dir;
}

function lastRun(stdout: string): RunRecord {
  return JSON.parse(stdout) as RunRecord;
}

function statuses(run: RunRecord): Record<string, string> {
  return Object.fromEntries(run.steps.map((s) => [s.name, `${s.status}${s.reason ? `: ${s.reason}` : ''}`]));
}

async function run(args: string[]) {
  const cwd = await project();
  return beforeHang(runCommand(runCli, ['--backend', 'local', ...args], { cwd }), 'gbcms run');
}

describe('gbcms run at approval gates', () => {
  test('without a terminal the gated step is skipped, saying how to approve it', async () => {
    const result = await run(['--json']);
    assert.equal(result.code, 0, result.stderr);
    const record = lastRun(result.stdout);
    assert.deepEqual(statuses(record), {
      build: 'success',
      deploy: 'skipped: approval needed: run with --approve deploy',
      notify: "skipped: depends on skipped step 'deploy'",
    });
  });

  test('--approve NAME lets the step run, and its dependents after it', async () => {
    const result = await run(['--json', '--approve', 'deploy']);
    assert.equal(result.code, 0, result.stderr);
    const record = lastRun(result.stdout);
    assert.deepEqual(
      record.steps.map((s) => s.status),
      ['success', 'success', 'success'],
    );
    assert.match(
      result.stderr,
      /‖ deploy: blocked, Deploy to production\?\ndeploy \| note: approved by --approve\n/,
    );
  });

  test('--approve all approves every gate', async () => {
    const result = await run(['--json', '--approve', 'all']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(lastRun(result.stdout).steps.find((s) => s.name === 'deploy')?.status, 'success');
  });

  test('--approve naming no gated step is refused before anything runs', async () => {
    const result = await run(['--approve', 'build']);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'gbcms run: --approve build: no step of .gbcms.yml with that name waits for approval (those that do: deploy)\n',
    );
  });

  for (const [answer, expected] of [
    ['y', 'success'],
    ['n', 'skipped: declined at the terminal'],
  ] as const) {
    test(`in a terminal the question is asked, and '${answer}' decides`, async () => {
      const cwd = await project();
      const stdin = Object.assign(new PassThrough(), { isTTY: true });
      let screen = '';
      let answered = false;
      const stdout = Object.assign(
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            screen += chunk.toString('utf8');
            // Answers once the question is on the screen, as a person would.
            if (!answered && screen.includes('[y/N]')) {
              answered = true;
              stdin.write(`${answer}\n`);
            }
            done();
          },
        }),
        { isTTY: true, columns: 120 },
      );
      const stderr = new PassThrough();
      const io: CliIO = { stdin, stdout, stderr, cwd, env: {} };
      const code = await beforeHang(runCli(['--backend', 'local'], io), 'gbcms run');
      assert.equal(code, 0);
      assert.match(screen, /Step 'deploy' waits for approval\. Deploy to production\? Run it\? \[y\/N\] /);
      const runsDir = join(cwd, '.gbcms/runs');
      const id = /runs\/([\w-]+)/.exec(screen)?.[1];
      assert.ok(id, screen);
      const record = JSON.parse(await readFile(join(runsDir, id, 'run.json'), 'utf8')) as RunRecord;
      assert.equal(statuses(record).deploy, expected);
    });
  }
});
