import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { secretCommand } from '../../server/cli/secret.ts';
import { KEY_FILE } from '../../server/secrets/key.ts';
import { openStore, type Project } from '../../server/store/index.ts';
import { capture, gbcms } from '../helpers/cli.ts';

let dir: string;
let data: string;
let project: Project;

async function secret(argv: string[], stdin = '', env: NodeJS.ProcessEnv = {}) {
  const stdout = capture();
  const stderr = capture();
  const code = await secretCommand(
    [...argv, '--data', data],
    { stdout, stderr, cwd: dir, env },
    Readable.from([Buffer.from(stdin)]),
  );
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gbcms-secret-cli-'));
  data = join(dir, 'data');
  const store = await openStore(data);
  project = await store.projects.create({ name: 'cli-demo', repo: '/srv/git/cli-demo.git' });
  await store.close();
});
after(() => rm(dir, { recursive: true, force: true }));

describe('gbcms secret', () => {
  test('is a gbcms command', async () => {
    const help = await gbcms(['secret', '--help'], { cwd: dir });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /rotate-key/);
    assert.match((await gbcms(['--help'], { cwd: dir })).stdout, /secret/);
  });

  test('set reads stdin or a file, never the command line; list shows names only', async () => {
    const set = await secret(['set', 'NPM_TOKEN', '--global', '--events', 'push,tag'], 'npm-token-value\n');
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await stat(join(data, KEY_FILE))).mode & 0o777, 0o600);
    await writeFile(join(dir, 'value.txt'), 'file-value-with\nlines\n');
    const fromFile = await secret(['set', 'DEPLOY_KEY', '--project', project.id, '--file', 'value.txt']);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const global = await secret(['list', '--global']);
    assert.match(global.stdout, /^NPM_TOKEN\s+push,tag\s+all\s+cli\s/m);
    const own = await secret(['list', '--project', project.id]);
    assert.match(own.stdout, /^DEPLOY_KEY\s/m);
    for (const output of [set, fromFile, global, own]) {
      assert.ok(!`${output.stdout}${output.stderr}`.includes('npm-token-value'));
      assert.ok(!`${output.stdout}${output.stderr}`.includes('file-value'));
    }
    // There is no option that takes a value: it would be in the process list.
    assert.equal((await secret(['set', 'NPM_TOKEN', '--global', '--value', 'x'])).code, 2);
  });

  test('usage errors and failures have their exit codes', async () => {
    assert.equal((await secret(['set', 'NPM_TOKEN'], 'value')).code, 2, 'no scope');
    assert.equal((await secret(['set', 'NPM_TOKEN', '--global', '--project', project.id], 'value')).code, 2);
    assert.equal((await secret(['set', 'KEY', '--global'], 'value')).code, 2, 'short name');
    assert.equal((await secret(['set', 'NPM_TOKEN', '--global', '--events', 'deploy'], 'value')).code, 2);
    assert.equal((await secret(['set', 'NPM_TOKEN', '--global'], 'abc')).code, 1, 'short value');
    assert.equal((await secret(['set', 'NPM_TOKEN', '--project', 'nope'], 'value')).code, 1, 'no project');
    assert.equal((await secret(['rm', 'MISSING_ONE', '--global'])).code, 1);
    assert.equal((await secret(['rm', 'NPM_TOKEN', '--global'])).code, 0);
  });

  test('rotate-key with GBCMS_SECRET_KEY leaves the new key in a file for the variable', async () => {
    const envData = await mkdtemp(join(tmpdir(), 'gbcms-secret-env-'));
    try {
      const key = Buffer.alloc(32, 7).toString('base64');
      data = envData;
      const fresh = await openStore(envData);
      await fresh.close();
      assert.equal(
        (await secret(['set', 'NPM_TOKEN', '--global'], 'value-1234', { GBCMS_SECRET_KEY: key })).code,
        0,
      );
      const rotated = await secret(['rotate-key'], '', { GBCMS_SECRET_KEY: key });
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stderr, /put its content in GBCMS_SECRET_KEY/);
      assert.equal((await stat(join(envData, 'secret.key.new'))).mode & 0o777, 0o600);
      await assert.rejects(stat(join(envData, KEY_FILE)), 'no key file is made when the variable is used');
      const again = await secret(['rotate-key'], '', { GBCMS_SECRET_KEY: key });
      assert.equal(again.code, 1, 'an unfinished rotation is not overwritten');
    } finally {
      await rm(envData, { recursive: true, force: true });
    }
  });
});
