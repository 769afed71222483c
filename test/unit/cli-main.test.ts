import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { main, usage } from '../../bin/main.ts';
import { capture } from '../helpers/cli.ts';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const recorder = fileURLToPath(new URL('../helpers/record-imports.mjs', import.meta.url));

let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gbcms-main-'));
  await writeFile(join(root, '.gbcms.yml'), 'version: 1\nsteps:\n  a: {image: alpine, commands: [echo]}\n');
});
after(() => rm(root, { recursive: true, force: true }));

async function dispatch(...argv: string[]) {
  const stdout = capture();
  const stderr = capture();
  const code = await main(argv, { stdout, stderr, env: {}, cwd: root });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Runs bin/gbcms.js as a user would and lists every module URL the process resolved. */
async function loadedBy(...argv: string[]): Promise<string[]> {
  const log = join(root, `imports-${argv.join('-')}.txt`);
  await exec(process.execPath, ['--import', recorder, join(repo, 'bin', 'gbcms.js'), ...argv], {
    cwd: root,
    env: { ...process.env, GBCMS_RECORD_IMPORTS: log },
  });
  return (await readFile(log, 'utf8')).split('\n').filter(Boolean);
}

// What only the server needs: the local commands must start without paying for them.
const SERVER_ONLY = [
  /\/node_modules\/fastify\//,
  /\/node_modules\/better-sqlite3\//,
  /\/node_modules\/kysely\//,
];
const serverDir = new URL('../../server/', import.meta.url).href;
const ofServer = (url: string) => url.startsWith(serverDir);

describe('gbcms (the dispatcher)', () => {
  test('without a command prints the usage and exits 2; --help, -h and help exit 0', async () => {
    assert.deepEqual(await dispatch(), { code: 2, stdout: usage(), stderr: '' });
    for (const flag of ['--help', '-h', 'help']) {
      assert.deepEqual(await dispatch(flag), { code: 0, stdout: usage(), stderr: '' });
    }
    assert.match(usage(), /^usage: gbcms <command> \[options\]\n\ncommands:\n {2}validate {2}/);
  });

  test('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string };
    assert.deepEqual(await dispatch('--version'), { code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  test('an unknown command is a usage error (exit 2)', async () => {
    assert.deepEqual(await dispatch('nope'), {
      code: 2,
      stdout: '',
      stderr: `gbcms: unknown command 'nope'\n\n${usage()}`,
    });
  });

  test('validate, plan and run load neither the server nor its packages', async () => {
    const validate = await loadedBy('validate');
    // The recorder saw the command's own modules, so an absence below means something.
    assert.ok(validate.some((url) => url.endsWith('/engine/lint/schema.ts')));
    for (const loaded of [validate, await loadedBy('plan', '--help'), await loadedBy('run', '--help')]) {
      assert.deepEqual(
        loaded.filter((url) => ofServer(url) || SERVER_ONLY.some((pattern) => pattern.test(url))),
        [],
      );
    }
  });

  test('serve loads the server packages (the recorder sees them when they are loaded)', async () => {
    const loaded = await loadedBy('serve', '--help');
    for (const pattern of SERVER_ONLY)
      assert.ok(
        loaded.some((url) => pattern.test(url)),
        String(pattern),
      );
  });
});
