import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StepRecord } from '../../engine/run-record.ts';
import { NameTakenError, type Project, type Store } from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';

forEachDatabase((databases) => {
  let t = Date.parse('2024-05-01T08:00:00.000Z');
  const now = () => new Date(t);
  let dir: string;
  let store: Store;
  let project: Project;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gbcms-store-'));
    store = await databases.openStore(dir, { now });
    project = await store.projects.create({ name: 'records', repo: 'https://example.org/r.git' });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function step(name: string, patch: Partial<StepRecord> = {}): StepRecord {
    return {
      name,
      status: 'pending',
      exit_code: null,
      reason: null,
      started_at: null,
      ended_at: null,
      duration_ms: null,
      attempts: 0,
      log: `logs/${name}.log`,
      ...patch,
    };
  }

  describe('users', () => {
    test('create, get, byUsername, unique names, ensure', async () => {
      const ada = await store.users.create({ username: 'ada', role: 'admin' });
      assert.deepEqual(await store.users.get(ada.id), ada);
      assert.deepEqual(await store.users.byUsername('ada'), ada);
      assert.equal(ada.email, null);
      await assert.rejects(store.users.create({ username: 'ada', role: 'developer' }), NameTakenError);
      assert.deepEqual(await store.users.ensure({ username: 'ada', role: 'developer' }), {
        user: ada,
        created: false,
      });
      const [x, y] = await Promise.all([
        store.users.ensure({ username: 'eve', role: 'developer' }),
        store.users.ensure({ username: 'eve', role: 'developer' }),
      ]);
      assert.equal(x.user.id, y.user.id);
      assert.deepEqual([x.created, y.created].sort(), [false, true]);
      assert.deepEqual(
        (await store.users.list()).map((u) => u.username),
        ['ada', 'eve'],
      );
    });
  });

  describe('projects', () => {
    test('create applies defaults and a fresh webhook secret; names are unique', async () => {
      const p = await store.projects.create({ name: 'defaults', repo: '/src/defaults' });
      assert.equal(p.default_branch, 'main');
      assert.equal(p.visibility, 'private');
      assert.equal(p.max_concurrent, 1);
      assert.equal(p.owner_id, null);
      assert.equal(p.description, null);
      assert.match(p.webhook_secret, /^[0-9a-f]{64}$/);
      assert.match(p.id, /^[A-Za-z0-9_-]{12}$/);
      assert.notEqual(p.webhook_secret, project.webhook_secret);
      assert.ok(!('last_execution_number' in p));
      assert.deepEqual(await store.projects.get(p.id), p);
      assert.deepEqual(await store.projects.byName('defaults'), p);
      await assert.rejects(store.projects.create({ name: 'defaults', repo: '/elsewhere' }), NameTakenError);
    });

    test('update changes the given fields and updated_at only', async () => {
      const p = await store.projects.create({ name: 'to-update', repo: '/src/u', description: 'old' });
      t += 5000;
      const updated = await store.projects.update(p.id, { visibility: 'public', max_concurrent: 3 });
      assert.deepEqual(updated, {
        ...p,
        visibility: 'public',
        max_concurrent: 3,
        updated_at: now().toISOString(),
      });
      assert.equal(await store.projects.update('missing', { name: 'x' }), undefined);
    });

    test('members are added once and removed', async () => {
      const p = await store.projects.create({ name: 'team', repo: '/src/t' });
      const dev = await store.users.create({ username: 'dev', role: 'developer' });
      assert.equal(await store.projects.isMember(p.id, dev.id), false);
      await store.projects.addMember(p.id, dev.id);
      await store.projects.addMember(p.id, dev.id);
      assert.equal(await store.projects.isMember(p.id, dev.id), true);
      assert.deepEqual(await store.projects.members(p.id), [dev]);
      assert.equal(await store.projects.removeMember(p.id, dev.id), true);
      assert.equal(await store.projects.removeMember(p.id, dev.id), false);
      assert.deepEqual(await store.projects.members(p.id), []);
    });
  });

  describe('steps', () => {
    test('upsert keeps plan order and replaces a step in place', async () => {
      const e = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
      await store.steps.upsert(e.id, step('build'));
      await store.steps.upsert(e.id, step('test'));
      await store.steps.upsert(e.id, step('lint'), 7);
      await store.steps.upsert(
        e.id,
        step('build', { status: 'success', exit_code: 0, attempts: 1, duration_ms: 42 }),
      );
      await store.steps.upsert(e.id, step('deploy'));
      const steps = await store.steps.list(e.id);
      assert.deepEqual(
        steps.map((s) => [s.name, s.position, s.status]),
        [
          ['build', 0, 'success'],
          ['test', 1, 'pending'],
          ['lint', 7, 'pending'],
          ['deploy', 8, 'pending'],
        ],
      );
      assert.deepEqual(steps[0], {
        ...step('build', { status: 'success', exit_code: 0, attempts: 1, duration_ms: 42 }),
        execution_id: e.id,
        position: 0,
        // A step without an approval gate.
        approval_message: null,
        approval_approvers: null,
        approval_decision: null,
        approval_by: null,
        approval_at: null,
      });
      await store.steps.upsert(e.id, step('test', { status: 'skipped' }), 2);
      assert.deepEqual(
        (await store.steps.list(e.id)).map((s) => [s.name, s.position]),
        [
          ['build', 0],
          ['test', 2],
          ['lint', 7],
          ['deploy', 8],
        ],
      );
    });
  });

  describe('environments', () => {
    test('record, markDestroyed once, listByExecution', async () => {
      const e = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
      const shared = await store.environments.record({ execution_id: e.id, type: 'docker' });
      const build = await store.environments.record({
        execution_id: e.id,
        step: 'build',
        type: 'docker',
        container_id: 'abc',
        image: 'busybox:stable',
      });
      assert.equal(shared.step, null);
      assert.equal(build.image, 'busybox:stable');
      const live = async () =>
        (await store.environments.listByExecution(e.id))
          .filter((x) => x.destroyed_at === null)
          .map((x) => x.id);
      assert.deepEqual((await live()).sort(), [shared.id, build.id].sort());
      t += 1000;
      assert.equal(await store.environments.markDestroyed(build.id), true);
      assert.equal(await store.environments.markDestroyed(build.id), false);
      const stored = await store.environments.listByExecution(e.id);
      assert.equal(stored.find((x) => x.id === build.id)?.destroyed_at, now().toISOString());
      assert.deepEqual(await live(), [shared.id]);
    });
  });

  describe('artifacts', () => {
    test('add, list by step and path, get, replace on re-add, many at once', async () => {
      const e = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
      await store.artifacts.add(e.id, [
        { step: 'test', path: 'report.xml', size: 10, sha256: 'a' },
        { step: 'build', path: 'dist/app.js', size: 5_000_000_000, sha256: 'b' },
      ]);
      await store.artifacts.add(e.id, [{ step: 'test', path: 'report.xml', size: 11, sha256: 'c' }]);
      await store.artifacts.add(e.id, []);
      assert.deepEqual(await store.artifacts.list(e.id), [
        { step: 'build', path: 'dist/app.js', size: 5_000_000_000, sha256: 'b' },
        { step: 'test', path: 'report.xml', size: 11, sha256: 'c' },
      ]);
      assert.deepEqual(await store.artifacts.get(e.id, 'test', 'report.xml'), {
        step: 'test',
        path: 'report.xml',
        size: 11,
        sha256: 'c',
      });
      assert.equal(await store.artifacts.get(e.id, 'test', 'missing'), undefined);

      const many = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
      const files = Array.from({ length: 1234 }, (_, i) => ({
        step: 's',
        path: `f${i}`,
        size: i,
        sha256: 'x',
      }));
      await store.artifacts.add(many.id, files);
      assert.equal((await store.artifacts.list(many.id)).length, 1234);
    });
  });

  describe('webhook deliveries', () => {
    test('a delivery is claimed once, even concurrently', async () => {
      assert.equal(await store.deliveries.claim('d-1', project.id, 'push'), true);
      assert.equal(await store.deliveries.claim('d-1', project.id, 'push'), false);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => store.deliveries.claim('d-2', project.id, 'push')),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('attach records the execution; old deliveries are forgotten', async () => {
      const e = await store.executions.create({
        project_id: project.id,
        trigger: { event: 'push', branch: 'main' },
      });
      await store.deliveries.claim('d-3', project.id, 'push');
      await store.deliveries.attach('d-3', e.id);
      assert.deepEqual(await store.deliveries.get('d-3'), {
        delivery_id: 'd-3',
        project_id: project.id,
        event: 'push',
        received_at: now().toISOString(),
        execution_id: e.id,
      });
      t += 1000;
      await store.deliveries.claim('d-4', project.id, 'ping');
      assert.ok((await store.deliveries.deleteOlderThan(now())) >= 1);
      assert.equal(await store.deliveries.get('d-3'), undefined);
      assert.notEqual(await store.deliveries.get('d-4'), undefined);
      assert.equal(await store.deliveries.claim('d-3', project.id, 'push'), true);
    });
  });
});
