// `gbcms runner --buffer SIZE`: sizes as elsewhere in gbcms, at least 1 MiB; a bad one is a
// usage error (exit 2) before the runner starts anything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateRunnerToken } from '../../server/auth/token-crypto.ts';
import { runnerCommand } from '../../server/cli/runner.ts';
import { runCommand } from '../helpers/cli.ts';

const base = ['--server', 'http://127.0.0.1:1', '--token', generateRunnerToken(), '--backend', 'local'];

for (const bad of ['lots', '0', '512k', '2q']) {
  test(`--buffer ${bad} is refused`, async () => {
    const result = await runCommand(runnerCommand, [...base, '--buffer', bad], { cwd: process.cwd() });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`--buffer must be a size of at least 1MiB .*not '${bad}'`));
  });
}

test('the help names --buffer and its default', async () => {
  const result = await runCommand(runnerCommand, ['--help'], { cwd: process.cwd() });
  assert.equal(result.code, 0);
  assert.match(result.stdout, /--buffer SIZE .*\n.*default 256MiB/);
});
