// `gbcms project` and the fork pull request setting, against a real data folder.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { openStore } from '../../server/store/index.ts';
import { type CliResult, gbcms } from '../helpers/cli.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';

const { tempDir } = cleanUpAfterAll();

let data: string;
before(async () => {
  data = await tempDir('gbcms-project-cli-forks-');
  const store = await openStore(data);
  await store.close();
});

function run(...argv: string[]): Promise<CliResult> {
  return gbcms(['project', ...argv, '--data', data], { cwd: data });
}

async function storedPolicy(name: string): Promise<string | undefined> {
  const store = await openStore(data);
  try {
    return (await store.projects.byName(name))?.fork_pull_requests;
  } finally {
    await store.close();
  }
}

describe('gbcms project and fork pull requests', () => {
  test('create shows the default (approve); --fork-pull-requests sets another', async () => {
    const plain = await run('create', 'plain', '--repo', 'https://git.example.com/org/plain.git');
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^fork PRs:\s+approve$/m);
    const open = await run(
      'create',
      'open',
      '--repo',
      'https://git.example.com/org/open.git',
      '--fork-pull-requests',
      'run',
    );
    assert.equal(open.code, 0, open.stderr);
    assert.equal(await storedPolicy('open'), 'run');
  });

  test('set changes it and prints the project; a bad value or no setting is a usage error', async () => {
    const set = await run('set', 'plain', '--fork-pull-requests', 'never');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^fork PRs:\s+never$/m);
    assert.equal(await storedPolicy('plain'), 'never');

    const bad = await run('set', 'plain', '--fork-pull-requests', 'sometimes');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--fork-pull-requests must be approve, run, never, not 'sometimes'/);
    const nothing = await run('set', 'plain');
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /--fork-pull-requests/);
    const unknown = await run('set', 'nope', '--fork-pull-requests', 'run');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /nope/);
    assert.equal(await storedPolicy('plain'), 'never', 'unchanged by the refused commands');
  });
});
