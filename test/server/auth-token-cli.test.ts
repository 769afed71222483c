import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tokenCommand } from '../../server/cli/token.ts';
import { openStore } from '../../server/store/index.ts';
import { type CliResult, runCommand } from '../helpers/cli.ts';

const execFileAsync = promisify(execFile);

function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCommand(tokenCommand, argv, { cwd: dir, env });
}

async function authenticate(dataDir: string, token: string) {
  const store = await openStore(dataDir);
  try {
    return await store.tokens.authenticate(token);
  } finally {
    await store.close();
  }
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gbcms-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('gbcms token', () => {
  test('create prints exactly one line, a token that authenticates as a new admin', async () => {
    const data = join(dir, 'data-a');
    const result = await run(['create', '--role', 'admin', '--data', data]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^gbcms_[A-Za-z0-9_-]{43}\n$/);
    assert.match(result.stderr, /created user 'admin' \(admin\)/);
    const auth = await authenticate(data, result.stdout.trim());
    assert.equal(auth?.user.username, 'admin');
    assert.equal(auth?.user.role, 'admin');

    const again = await run(['create', '--role', 'admin', '--data', data, '--name', 'second']);
    assert.equal(again.code, 0);
    assert.doesNotMatch(again.stderr, /created user/);
    assert.notEqual(again.stdout, result.stdout);
    assert.equal((await authenticate(data, again.stdout.trim()))?.user.id, auth?.user.id);
  });

  test('--data defaults to $GBCMS_DATA, then ./.gbcms-data', async () => {
    const viaEnv = await run(['create', '--role', 'developer', '--user', 'dev'], { GBCMS_DATA: 'env-data' });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal((await authenticate(join(dir, 'env-data'), viaEnv.stdout.trim()))?.user.role, 'developer');
    const viaDefault = await run(['create', '--role', 'admin']);
    assert.equal(viaDefault.code, 0, viaDefault.stderr);
    assert.ok(await authenticate(join(dir, '.gbcms-data'), viaDefault.stdout.trim()));
  });

  test('usage errors and role conflicts print nothing on stdout', async () => {
    const data = join(dir, 'data-b');
    await run(['create', '--role', 'developer', '--user', 'bob', '--data', data]);
    const cases: [string[], number, RegExp][] = [
      [['create', '--data', data], 2, /--role is required/],
      [['create', '--role', 'developer', '--data', data], 2, /--user is required/],
      [['create', '--role', 'root', '--data', data], 2, /--role must be admin or developer/],
      [['create', '--role', 'admin', '--user', 'bob', '--data', data], 1, /exists with role developer/],
      [['create', '--user', 'nobody', '--data', data], 1, /no user 'nobody'/],
      [['create', '--bogus'], 2, /Unknown option/],
      [['frobnicate'], 2, /unknown command/],
      [[], 2, /expected a command/],
      [['revoke', '--data', data], 2, /usage: gbcms token revoke PREFIX/],
      [['list', '--data', join(dir, 'missing')], 1, /no gbcms data/],
    ];
    for (const [argv, code, message] of cases) {
      const result = await run(argv);
      assert.equal(result.code, code, argv.join(' '));
      assert.match(result.stderr, message, argv.join(' '));
      assert.equal(result.stdout, '', argv.join(' '));
    }
    const existing = await run(['create', '--user', 'bob', '--data', data]);
    assert.equal(existing.code, 0, 'an existing user needs no --role');
  });

  test('list shows prefixes, never tokens; revoke PREFIX stops the token working', async () => {
    const data = join(dir, 'data-c');
    const { stdout } = await run([
      'create',
      '--role',
      'developer',
      '--user',
      'carol',
      '--name',
      'laptop',
      '--data',
      data,
    ]);
    const token = stdout.trim();
    const prefix = token.slice(0, 14);

    const listed = await run(['list', '--data', data]);
    assert.equal(listed.code, 0);
    const lines = listed.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^PREFIX\s+USER\s+ROLE\s+NAME\s+CREATED\s+LAST USED\s+STATUS$/);
    assert.match(
      lines[1] ?? '',
      new RegExp(
        `^${prefix}\\s+carol\\s+developer\\s+laptop\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+-\\s+active$`,
      ),
    );
    assert.ok(!listed.stdout.includes(token.slice(14)), 'the secret part is never listed');

    const revoked = await run(['revoke', prefix, '--data', data]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stderr, /revoked/);
    assert.equal(await authenticate(data, token), undefined);
    assert.match((await run(['list', '--data', data])).stdout, /revoked \d{4}-/);
    // The bare prefix may start with '-': `--` ends the options.
    const twice = await run(['revoke', '--data', data, '--', prefix.slice(6)]);
    assert.equal(twice.code, 0);
    assert.match(twice.stderr, /already revoked/);
    assert.equal((await run(['revoke', 'zzzzzzzz', '--data', data])).code, 1);
  });

  test('in a real process, stdout carries the token and nothing else', async () => {
    const data = join(dir, 'data-process');
    const script = [
      `import { processIO } from ${JSON.stringify(new URL('../../engine/cli/io.ts', import.meta.url).href)};`,
      `import { tokenCommand } from ${JSON.stringify(new URL('../../server/cli/token.ts', import.meta.url).href)};`,
      'process.exitCode = await tokenCommand(process.argv.slice(1), processIO());',
    ].join('\n');
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, 'create', '--role', 'admin', '--data', data],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)) },
    );
    assert.match(stdout, /^gbcms_[A-Za-z0-9_-]{43}\n$/);
    assert.match(stderr, /not shown again/);
    assert.equal((await authenticate(data, stdout.trim()))?.user.username, 'admin');
  });

  test('--help prints usage on stdout', async () => {
    const result = await run(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /usage: gbcms token <command>/);
  });
});
