// `gbcms project` against a real data folder, through the gbcms dispatcher.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { openStore } from '../../server/store/index.ts';
import { type CliResult, gbcms } from '../helpers/cli.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';

const { tempDir } = cleanUpAfterAll();

let data: string;
before(async () => {
  data = await tempDir('gbcms-project-cli-');
  const store = await openStore(data);
  await store.users.create({ username: 'dev', role: 'developer' });
  await store.close();
});

function run(...argv: string[]): Promise<CliResult> {
  return gbcms(['project', ...argv, '--data', data], { cwd: data });
}

function field(output: string, key: string): string | undefined {
  return new RegExp(`^${key}:\\s+(.*)$`, 'm').exec(output)?.[1];
}

describe('gbcms project', () => {
  test('create prints the id, the webhook URL and the secret; the project is stored', async () => {
    const created = await run(
      'create',
      'website',
      '--repo',
      'https://git.example.com/org/website.git',
      '--visibility',
      'public',
      '--max-concurrent',
      '3',
      '--owner',
      'dev',
      '--url',
      'https://ci.example.com/',
    );
    assert.equal(created.code, 0, created.stderr);
    const id = field(created.stdout, 'id') ?? '';
    const store = await openStore(data);
    const project = await store.projects.get(id);
    const owner = await store.users.byUsername('dev');
    await store.close();
    assert.equal(project?.name, 'website');
    assert.equal(project?.visibility, 'public');
    assert.equal(project?.max_concurrent, 3);
    assert.equal(project?.owner_id, owner?.id);
    assert.equal(
      field(created.stdout, 'webhook URL'),
      `https://ci.example.com/hooks/github/${id} (GitHub: content type application/json, events push and pull_request)`,
    );
    assert.equal(field(created.stdout, 'webhook secret'), project?.webhook_secret);
    assert.equal(field(created.stdout, 'page'), `https://ci.example.com/projects/${id}`);

    const shown = await gbcms(['project', 'show', 'website', '--data', data], {
      cwd: data,
      env: { GBCMS_URL: 'http://ci.local:8080' },
    });
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(field(shown.stdout, 'id'), id);
    assert.match(
      field(shown.stdout, 'webhook URL') ?? '',
      new RegExp(`^http://ci\\.local:8080/hooks/github/${id} `),
    );

    const listed = await run('list');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(
      listed.stdout,
      new RegExp(
        `^${id}\\s+website\\s+public\\s+main\\s+https://git\\.example\\.com/org/website\\.git$`,
        'm',
      ),
    );
  });

  test('defaults: private, main, one at a time; relative URLs without --url', async () => {
    const created = await run('create', 'tools', '--repo', '/srv/git/tools.git');
    assert.equal(created.code, 0, created.stderr);
    assert.equal(field(created.stdout, 'visibility'), 'private');
    assert.equal(field(created.stdout, 'default branch'), 'main');
    assert.equal(field(created.stdout, 'max concurrent'), '1');
    assert.match(field(created.stdout, 'webhook URL') ?? '', /^\/hooks\/github\//);
    assert.match(created.stderr, /give --url/);
  });

  test('refusals: a taken name, a refused repository, bad options', async () => {
    const taken = await run('create', 'tools', '--repo', '/srv/git/other.git');
    assert.equal(taken.code, 1);
    assert.equal(taken.stderr, "gbcms project: a project named 'tools' exists\n");
    const refused = await run('create', 'evil', '--repo', 'file:///etc');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^gbcms project: repo refused: file:\/\/ URLs are not allowed/);
    assert.equal((await run('create', 'x', '--repo', '/a', '--visibility', 'secret')).code, 2);
    assert.equal((await run('create', 'x', '--repo', '/a', '--max-concurrent', '0')).code, 1);
    assert.equal((await run('create', 'x')).code, 2);
    assert.equal((await run('show', 'nope')).code, 1);
  });

  test('set changes the commit-status settings; show prints them; bad values are refused', async () => {
    const created = await run('create', 'mirror', '--repo', 'https://git.example.com/org/mirror.git');
    assert.equal(created.code, 0, created.stderr);
    assert.equal(field(created.stdout, 'step statuses'), 'off');
    assert.equal(field(created.stdout, 'git hook forge'), 'none');

    const set = await run(
      'set',
      'mirror',
      '--step-statuses',
      'on',
      '--forge',
      'gitlab',
      '--forge-repo',
      'team/mirror',
    );
    assert.equal(set.code, 0, set.stderr);
    assert.equal(field(set.stdout, 'step statuses'), 'on');
    assert.equal(field(set.stdout, 'git hook forge'), 'gitlab team/mirror');
    const shown = await run('show', 'mirror');
    assert.equal(field(shown.stdout, 'git hook forge'), 'gitlab team/mirror');
    const store = await openStore(data);
    const id = (await store.projects.byName('mirror'))?.id ?? '';
    assert.deepEqual(await store.statusSettings.get(id), {
      step_statuses: true,
      git_hook_forge: { forge: 'gitlab', repo: 'team/mirror' },
    });
    await store.close();

    const refused = await run('set', 'mirror', '--forge', 'github');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /gbcms project: forge_repo is required with forge github/);
    const badRepo = await run('set', 'mirror', '--forge', 'github', '--forge-repo', 'just-a-name');
    assert.equal(badRepo.code, 1);
    assert.match(badRepo.stderr, /forge_repo must be owner\/name, not "just-a-name"/);
    const badForge = await run('set', 'mirror', '--forge', 'bitbucket');
    assert.equal(badForge.code, 2);
    assert.match(badForge.stderr, /--forge must be github, gitea, gitlab or none, not 'bitbucket'/);
    const badSwitch = await run('set', 'mirror', '--step-statuses', 'yes');
    assert.equal(badSwitch.code, 2);
    assert.match(badSwitch.stderr, /--step-statuses must be on or off/);
    const nothing = await run('set', 'mirror');
    assert.equal(nothing.code, 2);
    assert.match(
      nothing.stderr,
      /give a setting to change: --fork-pull-requests, --step-statuses, --forge or --forge-repo/,
    );

    const cleared = await run('set', 'mirror', '--forge', 'none', '--step-statuses', 'off');
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal(field(cleared.stdout, 'git hook forge'), 'none');
    assert.equal(field(cleared.stdout, 'step statuses'), 'off');
  });
});
