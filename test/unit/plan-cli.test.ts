import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { CliIO } from '../../engine/cli/io.ts';
import { planCommand } from '../../engine/cli/plan.ts';
import type { Plan } from '../../engine/plan.ts';
import { gitSkip } from '../helpers/git.ts';

const PIPELINE = `version: 1
name: demo
environments:
  node:
    image: node:20-bookworm-slim
  tools:
    build:
      context: docker
steps:
  install:
    environment: node
    commands: [npm ci]
  lint:
    environment: tools
    depends_on: []
    commands: [npm run lint]
  test:
    image: node:\${{matrix.node}}
    matrix:
      node: [18, 20]
    depends_on: [install]
    commands: [npm test]
  deploy:
    environment: node
    depends_on: [lint, test]
    when:
      branch: release/*
    commands: [./deploy.sh]
`;

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function plan(cwd: string, ...argv: string[]): Promise<Captured> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const io: CliIO = { stdout, stderr, env: {}, cwd };
  const code = await planCommand(argv, io);
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

describe('gbcms plan', () => {
  let root: string;
  let project: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'gbcms-plan-'));
    project = join(root, 'project');
    await mkdir(project);
    await writeFile(join(project, '.gbcms.yml'), PIPELINE);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('prints layers, grouped parallel steps and skip reasons', async () => {
    const r = await plan(project, '--event', 'push', '--branch', 'main', '--commit', '0123456789abcdef0123');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      [
        'demo (.gbcms.yml): push, branch main, commit 0123456789ab',
        '1. install (node: node:20-bookworm-slim)',
        '   lint (tools: built from docker/Dockerfile)',
        '2. test (node=18) (node:18)',
        '   test (node=20) (node:20)',
        "3. deploy (node: node:20-bookworm-slim)  skipped: when.branch: 'main' does not match release/*",
        '5 steps in 3 layers, 1 skipped',
        '',
      ].join('\n'),
    );
  });

  test('--json prints the plan; a directory argument finds its pipeline file', async () => {
    const r = await plan(
      root,
      'project',
      '--json',
      '--event',
      'tag',
      '--tag',
      'v1',
      '--changed',
      'a',
      '--changed',
      'b',
    );
    assert.equal(r.code, 0, r.stderr);
    const parsed = JSON.parse(r.stdout) as Plan;
    assert.equal(parsed.name, 'demo');
    assert.equal(parsed.workspace, project);
    assert.equal(parsed.file, '.gbcms.yml');
    assert.deepEqual(parsed.trigger.event, 'tag');
    assert.deepEqual(parsed.trigger.tag, 'v1');
    assert.deepEqual(parsed.trigger.changedPaths, ['a', 'b']);
    assert.deepEqual(parsed.layers, [['install', 'lint'], ['test (node=18)', 'test (node=20)'], ['deploy']]);
    const lint = parsed.steps.find((s) => s.name === 'lint');
    assert.equal(lint?.environment.build?.context, join(project, 'docker'));
    assert.equal(
      parsed.steps.find((s) => s.name === 'deploy')?.skip,
      'when.branch: the trigger has no branch (wants release/*)',
    );
  });

  test('a file argument plans that file, with build contexts beside it', async () => {
    const sub = join(root, 'nested');
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, 'ci.yml'), PIPELINE);
    const r = await plan(root, 'nested/ci.yml', '--json', '--branch', 'release/2');
    assert.equal(r.code, 0, r.stderr);
    const parsed = JSON.parse(r.stdout) as Plan;
    assert.equal(parsed.trigger.event, 'manual');
    assert.equal(parsed.workspace, sub);
    assert.equal(
      parsed.steps.find((s) => s.name === 'lint')?.environment.build?.context,
      join(sub, 'docker'),
    );
    assert.equal(parsed.steps.find((s) => s.name === 'deploy')?.skip, undefined);
  });

  test('the branch defaults to the checkout’s branch', gitSkip, async () => {
    const repo = join(root, 'repo');
    await mkdir(repo);
    await writeFile(join(repo, '.gbcms.yml'), PIPELINE);
    execFileSync('git', ['init', '-q', '-b', 'release/3', repo]);
    const r = await plan(repo, '--json');
    assert.equal(r.code, 0, r.stderr);
    const parsed = JSON.parse(r.stdout) as Plan;
    assert.equal(parsed.trigger.branch, 'release/3');
    assert.equal(parsed.steps.find((s) => s.name === 'deploy')?.skip, undefined);
  });

  test('an invalid file prints its diagnostics and exits 1', async () => {
    const bad = join(root, 'bad');
    await mkdir(bad);
    await writeFile(
      join(bad, '.gbcms.yml'),
      'version: 1\nsteps:\n  a:\n    image: x\n    commands: [true]\n    depends_on: [ghost]\n',
    );
    const r = await plan(root, 'bad');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /bad\/\.gbcms\.yml:\d+:\d+: error GBCMS_\w+: .*ghost/);
  });

  test('unreadable files and usage errors exit 2', async () => {
    const missing = await plan(root, 'no-such-dir');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /gbcms plan: .*no-such-dir/);
    const badEvent = await plan(project, '--event', 'merge');
    assert.equal(badEvent.code, 2);
    assert.match(badEvent.stderr, /--event must be one of/);
    const unknownOption = await plan(project, '--frobnicate');
    assert.equal(unknownOption.code, 2);
    assert.match(unknownOption.stderr, /frobnicate/);
    const twoPaths = await plan(project, 'a', 'b');
    assert.equal(twoPaths.code, 2);
  });

  test('--help prints usage and exits 0', async () => {
    const r = await plan(project, '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /usage: gbcms plan \[FILE\|DIR\]/);
  });
});
