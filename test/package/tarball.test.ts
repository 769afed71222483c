// The package as a user installs it: `npm pack` builds and packs this clone, the tarball is
// installed into an empty project outside the repository, and every command runs from there
// through `npx gbcms`, with plain Node (no tsx, no sources).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dockerTestOptions } from '../helpers/docker.ts';
import { HANG_MS, pollUntil } from '../helpers/poll.ts';
import { type InstalledGbcms, installTarball, packClone, REPO } from './installed.ts';

const run = promisify(execFile);
const recorder = fileURLToPath(new URL('../helpers/record-imports.mjs', import.meta.url));

const PIPELINE = `# yaml-language-server: $schema=node_modules/gbcms/schemas/pipeline.schema.json
version: 1
name: installed
environments:
  shell:
    image: busybox:stable
steps:
  build:
    environment: shell
    commands:
      - echo built > out.txt
  test:
    environment: shell
    depends_on: [build]
    commands:
      - grep built out.txt && echo "tested from the package"
`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let gbcms: InstalledGbcms;
let scratch: string;

/** `npx gbcms ...` in the installed project, as a user types it. */
async function npx(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run('npx', ['--no-install', 'gbcms', ...args], {
      cwd: gbcms.project,
      env: { ...process.env, CI: 'true', ...env },
      timeout: HANG_MS,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('the packed gbcms, installed into an empty project', () => {
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'gbcms-pack-'));
    gbcms = await installTarball(await packClone(scratch));
    writeFileSync(join(gbcms.project, '.gbcms.yml'), PIPELINE);
  });
  after(() => {
    rmSync(scratch, { recursive: true, force: true });
    if (gbcms) rmSync(gbcms.project, { recursive: true, force: true });
  });

  test('ships compiled code, declarations, schemas and the launcher; no sources, tests or tsx', async () => {
    const { stdout } = await run('tar', ['-tzf', gbcms.tarball]);
    const files = stdout
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    const unexpected = files.filter(
      (f) =>
        !/^(dist\/|schemas\/[^/]+\.json$|bin\/gbcms\.js$|package\.json$|README\.md$|LICENSE$|CHANGELOG\.md$)/.test(
          f,
        ) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')),
    );
    assert.deepEqual(unexpected, []);
    for (const needed of [
      'dist/bin/main.js',
      'dist/engine/index.js',
      'dist/engine/index.d.ts',
      'dist/engine/report/client.d.ts',
      'dist/server/pages/assets/app.css',
      'schemas/pipeline.schema.json',
    ]) {
      assert.ok(files.includes(needed), `${needed} is in the tarball`);
    }
    const pkg = JSON.parse(readFileSync(join(gbcms.project, 'node_modules/gbcms/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.equal(pkg.dependencies.tsx, undefined);
    assert.equal(
      existsSync(join(gbcms.project, 'node_modules', 'tsx')),
      false,
      'tsx is installed with gbcms',
    );
  });

  test('--version prints the version of the clone it was packed from', async () => {
    const clone = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    assert.deepEqual(await npx(['--version']), { code: 0, stdout: `${clone.version}\n`, stderr: '' });
  });

  test('validate accepts the pipeline and points at each mistake of a broken one', async () => {
    const valid = await npx(['validate']);
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(valid.stdout + valid.stderr, /\.gbcms\.yml: valid/);

    writeFileSync(
      join(gbcms.project, 'broken.yml'),
      'version: 1\nsteps:\n  a:\n    image: busybox:stable\n    commandz: [echo]\n',
    );
    const broken = await npx(['validate', 'broken.yml']);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout + broken.stderr, /broken\.yml:5:5: error GBCMS_SCHEMA_UNKNOWN_KEY/);
  });

  test('plan lists the steps in order', async () => {
    const plan = await npx(['plan']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /1\. build[^\n]*\n2\. test/);
  });

  test('run on the local backend succeeds, ignores its run folders in git, and loads no server code', async () => {
    const imports = join(scratch, 'imports.txt');
    writeFileSync(imports, '');
    const result = await npx(['run', '--backend', 'local'], {
      NODE_OPTIONS: `--import ${recorder}`,
      GBCMS_RECORD_IMPORTS: imports,
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, /tested from the package/);
    assert.equal(
      readFileSync(join(gbcms.project, '.gbcms', '.gitignore'), 'utf8')
        .split('\n')
        .includes('*'),
      true,
    );
    const loaded = readFileSync(imports, 'utf8');
    assert.match(loaded, /node_modules\/gbcms\/dist\/engine\/cli\/run\.js/);
    for (const serverOnly of ['/fastify/', '/better-sqlite3/', '/kysely/', '/gbcms/dist/server/']) {
      assert.equal(loaded.includes(serverOnly), false, `gbcms run loaded ${serverOnly}`);
    }
  });

  test('run on the docker backend succeeds', async (t) => {
    const skip = (await dockerTestOptions()).skip;
    if (skip) return t.skip(skip);
    const result = await npx(['run', '--backend', 'docker']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, /\(docker, 2 steps/);
    assert.match(result.stdout + result.stderr, /tested from the package/);
  });

  test('token makes a token that the served API accepts; /healthz answers', async () => {
    const data = join(scratch, 'data');
    const made = await npx(['token', 'create', '--role', 'admin', '--data', data]);
    assert.equal(made.code, 0, made.stderr);
    const token = made.stdout.trim();
    assert.match(token, /^\S{20,}$/);

    // The installed command itself rather than npx, so that SIGTERM reaches gbcms (npx would die
    // of it and leave the server running).
    const server: ChildProcess = spawn(
      process.execPath,
      [join(gbcms.project, 'node_modules', '.bin', 'gbcms'), 'serve', '--port', '0', '--data', data],
      {
        cwd: gbcms.project,
        env: { ...process.env, GBCMS_DATA: data },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    server.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    server.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    try {
      const url = await pollUntil(
        'gbcms serve to listen',
        () => /listening on (http:\/\/\S+)/.exec(output)?.[1],
      );
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok', version: gbcms.version });
      assert.match(
        await (await fetch(`${url}/login`)).text(),
        new RegExp(`<footer[^>]*>gbcms ${gbcms.version}</footer>`),
      );
      assert.equal((await fetch(`${url}/api/tokens`)).status, 401);
      const tokens = await fetch(`${url}/api/tokens`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(tokens.status, 200, await tokens.clone().text());
    } finally {
      server.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);
  });

  test('a plain .mjs file imports gbcms/report and gbcms without tsx', async () => {
    const reports = join(scratch, 'reports.jsonl');
    writeFileSync(
      join(gbcms.project, 'use.mjs'),
      [
        "import { metric, progress, openReportsFile } from 'gbcms/report';",
        "import { compilePlan, lintPipelineSource } from 'gbcms';",
        "progress(1, 2, 'half way');",
        "metric('loss', 0.25);",
        "openReportsFile().metric('acc', 0.75);",
        'console.log(typeof compilePlan, typeof lintPipelineSource);',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, ['use.mjs'], {
      cwd: gbcms.project,
      env: { PATH: process.env.PATH, GBCMS_REPORTS: reports },
    });
    assert.equal(
      stdout,
      '::gbcms progress 1/2 half way\n::gbcms metric name=loss value=0.25\nfunction function\n',
    );
    assert.match(readFileSync(reports, 'utf8'), /"name":"acc","value":0.75/);
  });

  test('TypeScript finds the declarations of gbcms and gbcms/report', async () => {
    writeFileSync(
      join(gbcms.project, 'use.ts'),
      [
        "import type { Plan, RunRecord } from 'gbcms';",
        "import { metric } from 'gbcms/report';",
        'export function steps(plan: Plan): number { return plan.steps.length; }',
        "export function passed(record: RunRecord): boolean { return record.status === 'success'; }",
        "metric('loss', 1);",
        '// @ts-expect-error: metric takes a number, the declarations say so',
        "metric('loss', 'high');",
      ].join('\n'),
    );
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      '--types',
      'node',
    ];
    await run(
      process.execPath,
      [tsc, ...args, '--typeRoots', join(REPO, 'node_modules', '@types'), 'use.ts'],
      {
        cwd: gbcms.project,
      },
    );
  });
});
