// deploy/gbcms.service as systemd reads it: `systemd-analyze verify` must find nothing to say
// (an unknown key or a bad value is only a warning, so the test wants empty output, too).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO } from './installed.ts';

const run = promisify(execFile);
const UNIT = readFileSync(join(REPO, 'deploy', 'gbcms.service'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'gbcms-systemd-'));

/**
 * Verifies a unit. verify also checks that ExecStart's program exists: the unit names the
 * global install's /usr/local/bin/gbcms, so the check points it at this clone's launcher.
 */
async function verify(unit: string): Promise<{ code: number; output: string }> {
  const file = join(dir, 'gbcms.service');
  writeFileSync(file, unit.replaceAll('/usr/local/bin/gbcms ', `${join(REPO, 'bin', 'gbcms.js')} `));
  try {
    const { stdout, stderr } = await run('systemd-analyze', ['verify', file]);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('deploy/gbcms.service', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('systemd-analyze verify finds nothing to report', async () => {
    assert.deepEqual(await verify(UNIT), { code: 0, output: '' });
  });

  test('runs gbcms serve as a dynamic user with its state directory, the docker group and hardening', () => {
    for (const line of [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: systemd's own ${VAR}, not JavaScript's
      'ExecStart=/usr/local/bin/gbcms serve --host ${GBCMS_HOST} --port ${GBCMS_PORT} --public-url ${GBCMS_URL}',
      'EnvironmentFile=/etc/gbcms/gbcms.env',
      'DynamicUser=yes',
      'StateDirectory=gbcms',
      'SupplementaryGroups=docker',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
    ]) {
      assert.ok(UNIT.split('\n').includes(line), `the unit has ${line}`);
    }
    const env = readFileSync(join(REPO, 'deploy', 'gbcms.env'), 'utf8');
    assert.match(env, /^GBCMS_DATA=\/var\/lib\/gbcms$/m, 'GBCMS_DATA is the StateDirectory');
  });

  test('the check is not blind: a misspelt key and a bad value are reported', async () => {
    const broken = await verify(
      UNIT.replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes').replace('UMask=0077', 'UMask=nine'),
    );
    assert.match(broken.output, /Unknown key 'NoNewPrivilege'/);
    assert.match(broken.output, /Failed to parse mode value, ignoring: nine/);
  });
});
