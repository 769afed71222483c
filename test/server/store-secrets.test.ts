// The secrets, status-settings, forge and cache-use repositories on each database: binary
// columns read back as the same bytes, upserts keep what they should, a failed reseal writes
// nothing, and deleting a project or an execution takes its rows with it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { Project, Store, StoredSecret } from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { rawQuery } from './helpers/raw-database.ts';

forEachDatabase((databases) => {
  const { tempDir, onCleanup } = cleanUpAfterAll();
  let t = Date.parse('2026-02-01T08:00:00.000Z');
  const now = () => new Date(t);
  let dir: string;
  let store: Store;
  let project: Project;

  before(async () => {
    dir = await tempDir('gbcms-store-secrets-');
    store = await databases.openStore(dir, { now });
    onCleanup(() => store.close());
    project = await store.projects.create({ name: 'vault', repo: '/srv/git/vault.git' });
  });

  const secret = (
    scope: string,
    name: string,
    more: Partial<StoredSecret> = {},
  ): Omit<StoredSecret, 'created_at'> => ({
    scope_key: scope,
    project_id: scope === 'global' ? null : project.id,
    name,
    // Every byte value, zero included: a text column or an encoding would mangle some.
    nonce: randomBytes(12),
    ciphertext: Buffer.concat([Buffer.from([0, 255, 128, 10, 13]), randomBytes(40)]),
    events: null,
    branches: null,
    updated_by: 'ada',
    updated_at: now().toISOString(),
    ...more,
  });

  describe('secrets', () => {
    test('bytes read back unchanged; a replacement keeps created_at and changes the rest', async () => {
      const scope = `project:${project.id}`;
      const first = secret(scope, 'DEPLOY_KEY', { events: '["push"]' });
      await store.secrets.put(first);
      const stored = await store.secrets.get(scope, 'DEPLOY_KEY');
      assert.ok(stored);
      assert.ok(Buffer.isBuffer(stored.nonce) && Buffer.isBuffer(stored.ciphertext));
      assert.deepEqual(stored, { ...first, created_at: now().toISOString() });

      const created = now().toISOString();
      t += 60_000;
      const second = secret(scope, 'DEPLOY_KEY', { branches: '["main"]', updated_by: 'bob' });
      await store.secrets.put(second);
      assert.deepEqual(await store.secrets.get(scope, 'DEPLOY_KEY'), { ...second, created_at: created });

      await store.secrets.put(secret('global', 'DEPLOY_KEY'));
      await store.secrets.put(secret(scope, 'API_TOKEN'));
      assert.deepEqual(
        (await store.secrets.list(scope)).map((s) => [s.name, 'ciphertext' in s]),
        [
          ['API_TOKEN', false],
          ['DEPLOY_KEY', false],
        ],
      );
      const found = await store.secrets.find([scope, 'global'], ['DEPLOY_KEY']);
      assert.deepEqual(found.map((s) => s.scope_key).sort(), ['global', scope].sort());
      assert.equal(await store.secrets.remove('global', 'DEPLOY_KEY'), true);
      assert.equal(await store.secrets.remove('global', 'DEPLOY_KEY'), false);
    });

    test('resealAll rewrites every secret, or none when one fails', async () => {
      const before = await store.secrets.all();
      assert.ok(before.length >= 2);
      await assert.rejects(
        store.secrets.resealAll((row) => {
          if (row.name === 'DEPLOY_KEY') throw new Error('wrong key');
          return { nonce: Buffer.alloc(12, 1), ciphertext: Buffer.alloc(20, 2) };
        }),
        /wrong key/,
      );
      assert.deepEqual(await store.secrets.all(), before);

      const resealed = await store.secrets.resealAll((row) => ({
        nonce: Buffer.alloc(12, 7),
        ciphertext: Buffer.concat([row.ciphertext, Buffer.from([0])]),
      }));
      assert.equal(resealed, before.length);
      const after = await store.secrets.all();
      assert.deepEqual(
        after.map((row) => [row.nonce, row.ciphertext]),
        before.map((row) => [Buffer.alloc(12, 7), Buffer.concat([row.ciphertext, Buffer.from([0])])]),
      );
    });

    test('uses: which executions got a secret, newest first, recorded once', async () => {
      const scope = `project:${project.id}`;
      const executions = [];
      for (let i = 0; i < 3; i += 1) {
        t += 1000;
        executions.push(
          await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } }),
        );
      }
      for (const execution of executions) {
        const given = [{ scope_key: scope, name: 'DEPLOY_KEY' }];
        await store.secrets.recordUse(execution.id, given);
        await store.secrets.recordUse(execution.id, given);
      }
      assert.deepEqual(await store.secrets.usedBy(executions[0]?.id ?? ''), [
        { scope_key: scope, name: 'DEPLOY_KEY' },
      ]);
      const uses = await store.secrets.uses(scope, 'DEPLOY_KEY', 2);
      assert.deepEqual(
        uses.map((use) => use.number),
        [executions[2]?.number, executions[1]?.number],
      );
    });
  });

  describe('status settings, forges and cache uses', () => {
    test('status settings default, replace and read back', async () => {
      assert.deepEqual(await store.statusSettings.get(project.id), {
        step_statuses: false,
        git_hook_forge: null,
      });
      const settings = {
        step_statuses: true,
        git_hook_forge: { forge: 'gitea' as const, repo: 'org/vault' },
      };
      await store.statusSettings.set(project.id, settings);
      assert.deepEqual(await store.statusSettings.get(project.id), settings);
      await store.statusSettings.set(project.id, { step_statuses: false, git_hook_forge: null });
      assert.deepEqual(await store.statusSettings.get(project.id), {
        step_statuses: false,
        git_hook_forge: null,
      });
    });

    test("an execution's forge target is set once, its problem cleared, and it goes with the execution", async () => {
      const execution = await store.executions.create({ project_id: project.id, trigger: { event: 'push' } });
      await store.forges.set(execution.id, { forge: 'github', repo: 'org/vault' });
      await store.forges.setProblem(execution.id, 'HTTP 401');
      await store.forges.set(execution.id, { forge: 'github', repo: 'org/vault-renamed' });
      assert.deepEqual(await store.forges.get(execution.id), {
        execution_id: execution.id,
        forge: 'github',
        repo: 'org/vault-renamed',
        problem: 'HTTP 401',
      });
      await store.forges.setProblem(execution.id, null);
      assert.equal((await store.forges.get(execution.id))?.problem, null);
      await rawQuery(
        { dataDir: dir, database: await databases.database(dir) },
        'delete from executions where id = ?',
        [execution.id],
      );
      assert.equal(await store.forges.get(execution.id), undefined);
    });

    test('cache uses: touched, forgotten, and removed with their project', async () => {
      const other = await store.projects.create({ name: 'cached', repo: '/srv/git/cached.git' });
      await store.caches.touch({ key: 'a'.repeat(64), projectId: other.id, scope: 'project', slot: 'npm' });
      t += 5000;
      await store.caches.touch({ key: 'a'.repeat(64), projectId: other.id, scope: 'project', slot: 'npm' });
      await store.caches.touch({ key: 'b'.repeat(64), projectId: other.id, scope: 'project', slot: 'go' });
      const uses = await store.caches.lastUses();
      assert.equal(uses.get('a'.repeat(64)), now().toISOString());
      await store.caches.forget(['b'.repeat(64)]);
      assert.equal((await store.caches.lastUses()).has('b'.repeat(64)), false);
      assert.deepEqual(await store.caches.existingProjects([other.id, 'gone']), new Set([other.id]));
      await rawQuery(
        { dataDir: dir, database: await databases.database(dir) },
        'delete from projects where id = ?',
        [other.id],
      );
      assert.equal((await store.caches.lastUses()).has('a'.repeat(64)), false);
    });
  });
});
