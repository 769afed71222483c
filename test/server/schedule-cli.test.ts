// `gbcms schedule` against a real data folder, through the gbcms dispatcher.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { openStore, type Project } from '../../server/store/index.ts';
import { type CliResult, gbcms } from '../helpers/cli.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';

const { tempDir } = cleanUpAfterAll();

let data: string;
let project: Project;
before(async () => {
  data = await tempDir('gbcms-schedule-cli-');
  const store = await openStore(data);
  project = await store.projects.create({ name: 'nightly-app', repo: '/srv/git/app.git' });
  await store.close();
});

function run(...argv: string[]): Promise<CliResult> {
  return gbcms(['schedule', ...argv, '--data', data], { cwd: data });
}

async function schedulesOf(projectId: string) {
  const store = await openStore(data);
  try {
    return await store.schedules.listByProject(projectId);
  } finally {
    await store.close();
  }
}

describe('gbcms schedule', () => {
  test('add prints the new id; list shows it; rm removes it', async () => {
    const added = await run(
      'add',
      'nightly-app',
      '--cron',
      '0 3 * * *',
      '--branch',
      'develop',
      '--name',
      'nightly',
      '--timezone',
      'Europe/Paris',
    );
    assert.equal(added.code, 0, added.stderr);
    const id = added.stdout.trim();
    assert.match(id, /^[A-Za-z0-9_-]{12}$/);
    assert.match(
      added.stderr,
      /'0 3 \* \* \*' \(Europe\/Paris\) runs nightly-app on develop; next run \d{4}-\d\d-\d\d 0[12]:00 UTC/,
    );
    const [stored] = await schedulesOf(project.id);
    assert.equal(stored?.id, id);
    assert.equal(stored?.branch, 'develop');
    assert.equal(stored?.name, 'nightly');

    const listed = await run('list', project.id);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^ID\s+NAME\s+CRON\s+TIME ZONE\s+BRANCH\s+NEXT RUN\s+LAST RUN$/);
    assert.match(
      lines[1] ?? '',
      new RegExp(`^${id}\\s+nightly\\s+0 3 \\* \\* \\*\\s+Europe/Paris\\s+develop\\s+`),
    );

    const removed = await run('rm', id);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await schedulesOf(project.id), []);
    const again = await run('rm', id);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `gbcms schedule: no schedule '${id}'\n`);
  });

  test('an invalid expression or zone is refused with a message naming the field', async () => {
    const cron = await run('add', 'nightly-app', '--cron', '0 25 * * *');
    assert.equal(cron.code, 1);
    assert.equal(cron.stderr, "gbcms schedule: cron '0 25 * * *' is invalid: invalid value for hour: 25\n");
    const zone = await run('add', 'nightly-app', '--cron', '@daily', '--timezone', 'Europe/Atlantis');
    assert.equal(zone.code, 1);
    assert.equal(
      zone.stderr,
      "gbcms schedule: timezone 'Europe/Atlantis' is not an IANA time zone name (like Europe/Paris or UTC)\n",
    );
    assert.deepEqual(await schedulesOf(project.id), []);
  });

  test('usage errors exit 2; an unknown project or data folder exits 1', async () => {
    assert.equal((await run('add', 'nightly-app')).code, 2);
    assert.equal((await run('frobnicate')).code, 2);
    assert.equal((await run('add', 'nightly-app', '--cron', '@daily', '--every', '5')).code, 2);
    const unknown = await run('list', 'nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no project 'nope'/);
    const empty = await tempDir('gbcms-schedule-empty-');
    const noData = await gbcms(['schedule', 'list', 'x', '--data', empty], { cwd: empty });
    assert.equal(noData.code, 1);
    assert.match(noData.stderr, /no gbcms data in/);
  });
});
