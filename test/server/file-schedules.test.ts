// Schedules from the pipeline file: a push to the default branch makes the project's file
// schedules what its file says; they fire with event cron (a clock the test moves), sit beside
// API-made schedules (which pushes never touch), and go with the push that removes them. At
// start, syncAll() reads the default branch the same way.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { addSchedule } from '../../server/schedules/create.ts';
import { Scheduler } from '../../server/schedules/scheduler.ts';
import { commitAll, GRACE, gitAs } from '../helpers/git.ts';
import { pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { openFakeManagers, warningsLogger } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();

const STEPS = 'steps:\n  hello:\n    image: alpine\n    commands: [echo hi]\n';
const WITH_SCHEDULE = `version: 1\nschedules:\n  - {name: nightly, cron: "*/5 * * * *", timezone: UTC}\n${STEPS}`;
const WITHOUT = `version: 1\n${STEPS}`;

describe('schedules from the pipeline file', () => {
  test('a push adds them, they fire with event cron, a push without them removes them', async () => {
    let now = new Date('2026-03-01T10:01:00.000Z');
    const clock = () => new Date(now);
    const { logger, warnings } = warningsLogger();
    const opened = await openFakeManagers(await tempDir('gbcms-file-sched-'), { logger, now: clock });
    onCleanup(async () => {
      await opened.close();
      assert.deepEqual(warnings, []);
    });
    const { store, manager } = opened;
    const work = await tempDir('gbcms-file-sched-repo-');
    const git = gitAs(GRACE);
    git(work, 'init', '-q', '-b', 'main');
    const push = async (pipeline?: string) => {
      if (pipeline !== undefined) {
        await writeFile(join(work, '.gbcms.yml'), pipeline);
        commitAll(git, work, 'pipeline');
      }
      const execution = await manager.start({
        project,
        trigger: { event: 'push', branch: 'main' },
        source: { kind: 'project' },
      });
      const ended = await pollUntil('the push to end', async () => {
        const row = await store.executions.get(execution.id);
        return row?.ended_at ? row : undefined;
      });
      assert.equal(ended.status, 'success', ended.reason ?? '');
    };
    const project = await store.projects.create({ name: 'nightly', repo: work, default_branch: 'main' });
    const byHand = await addSchedule(store, project, { cron: '0 0 * * *', timezone: 'UTC' }, clock());

    await push(WITH_SCHEDULE);
    const schedules = await store.schedules.listByProject(project.id);
    const fromFile = schedules.find((s) => s.source === 'file');
    assert.deepEqual(
      schedules.map((s) => [s.name, s.cron, s.branch, s.timezone, s.source]),
      [
        [null, '0 0 * * *', 'main', 'UTC', null],
        ['nightly', '*/5 * * * *', 'main', 'UTC', 'file'],
      ],
    );
    assert.equal(fromFile?.next_run_at, '2026-03-01T10:05:00.000Z');

    // The same file again changes nothing: the schedule keeps its row and its next tick.
    await push();
    assert.deepEqual(
      (await store.schedules.listByProject(project.id)).map((s) => s.id),
      [byHand.id, fromFile?.id],
    );

    const scheduler = new Scheduler({
      store,
      start: (request) => manager.start(request),
      logger,
      now: clock,
    });
    now = new Date('2026-03-01T10:05:00.000Z');
    const fired = await scheduler.runDue();
    assert.deepEqual(
      fired.map(({ schedule, execution }) => [schedule.name, execution.trigger_event, execution.ref]),
      [['nightly', 'cron', 'main']],
    );
    await pollUntil('the cron execution to end', async () => {
      const row = await store.executions.get(fired[0]?.execution.id ?? '');
      return row?.status === 'success';
    });

    await push(WITHOUT);
    assert.deepEqual(
      (await store.schedules.listByProject(project.id)).map((s) => s.id),
      [byHand.id],
    );

    // At start, the default branch is read: a file with the schedule brings it back.
    await writeFile(join(work, '.gbcms.yml'), WITH_SCHEDULE);
    commitAll(git, work, 'schedule again, pushed while no server listened');
    await manager.fileSchedules.syncAll();
    assert.deepEqual(
      (await store.schedules.listByProject(project.id)).map((s) => [s.name, s.source]),
      [
        [null, null],
        ['nightly', 'file'],
      ],
    );
  });

  test('a push to another branch, or a file that does not lint, leaves them as they were', async () => {
    const { logger } = warningsLogger();
    const opened = await openFakeManagers(await tempDir('gbcms-file-sched-'), { logger });
    onCleanup(() => opened.close());
    const { store, manager } = opened;
    const work = await tempDir('gbcms-file-sched-repo-');
    const git = gitAs(GRACE);
    git(work, 'init', '-q', '-b', 'main');
    const project = await store.projects.create({ name: 'kept', repo: work, default_branch: 'main' });
    const run = async (branch: string, pipeline: string) => {
      git(work, 'checkout', '-q', '-B', branch);
      await writeFile(join(work, '.gbcms.yml'), pipeline);
      commitAll(git, work, `pipeline on ${branch}`);
      const execution = await manager.start({
        project,
        trigger: { event: 'push', branch },
        source: { kind: 'project' },
      });
      return pollUntil('the push to end', async () => {
        const row = await store.executions.get(execution.id);
        return row?.ended_at ? row : undefined;
      });
    };
    await run('main', WITH_SCHEDULE);
    assert.equal((await run('feature', WITHOUT)).status, 'success');
    const broken = await run('main', `${WITHOUT}schedules: [{name: x, cron: "61 * * * *"}]\n`);
    assert.equal(broken.status, 'error');
    assert.match(broken.reason ?? '', /GBCMS_SCHEDULE_CRON/);
    assert.deepEqual(
      (await store.schedules.listByProject(project.id)).map((s) => s.name),
      ['nightly'],
    );
  });
});
