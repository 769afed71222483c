import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashToken } from '../../server/auth/token-crypto.ts';
import { DATABASE_FILE, type Store, type User } from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { rawQuery } from './helpers/raw-database.ts';

forEachDatabase((databases) => {
  let t = Date.parse('2024-03-01T10:00:00.000Z');
  const now = () => new Date(t);
  let dir: string;
  let store: Store;
  let ada: User;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gbcms-store-'));
    store = await databases.openStore(dir, { now });
    ada = await store.users.create({ username: 'ada', role: 'admin', email: 'ada@example.org' });
  });
  const location = async () => ({ dataDir: dir, database: await databases.database(dir) });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('api tokens', () => {
    test('only the hash is stored, and the token authenticates its user', async () => {
      const { token, record } = await store.tokens.create(ada.id, 'laptop');
      assert.match(token, /^gbcms_[A-Za-z0-9_-]{43}$/);
      assert.equal(record.prefix, token.slice(6, 14));

      const [row] = await rawQuery(await location(), 'select * from api_tokens where id = ?', [record.id]);
      assert.ok(row);
      assert.equal(row.token_hash, hashToken(token));
      assert.match(row.token_hash, /^[0-9a-f]{64}$/);
      for (const value of Object.values(row))
        assert.ok(!String(value).includes(token.slice(6)), 'token in a column');
      if (databases.dialect === 'sqlite') {
        const file = await readFile(join(dir, DATABASE_FILE));
        const wal = await readFile(join(dir, `${DATABASE_FILE}-wal`)).catch(() => Buffer.alloc(0));
        assert.ok(!file.includes(token) && !wal.includes(token), 'token in the database files');
      }

      const auth = await store.tokens.authenticate(token);
      assert.deepEqual(auth, { user: ada, tokenId: record.id });
    });

    test('wrong, malformed and revoked tokens do not authenticate', async () => {
      const { token, record } = await store.tokens.create(ada.id, 'ci');
      const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
      for (const bad of [flipped, '', 'gbcms_', token.slice(6), `${token} `, token.toUpperCase()]) {
        assert.equal(await store.tokens.authenticate(bad), undefined, bad);
      }
      assert.equal(await store.tokens.revoke(record.id), true);
      assert.equal(await store.tokens.revoke(record.id), false);
      assert.equal(await store.tokens.authenticate(token), undefined);
      const listed = (await store.tokens.list()).find((x) => x.id === record.id);
      assert.equal(listed?.revoked_at, now().toISOString());
    });

    test('last_used_at is written at most once a minute', async () => {
      const { token, record } = await store.tokens.create(ada.id, 'bot');
      const lastUsed = async () => (await store.tokens.list()).find((x) => x.id === record.id)?.last_used_at;
      assert.equal(await lastUsed(), null);
      const first = now().toISOString();
      await store.tokens.authenticate(token);
      assert.equal(await lastUsed(), first);
      t += 59_000;
      await store.tokens.authenticate(token);
      assert.equal(await lastUsed(), first);
      t += 1_000;
      await store.tokens.authenticate(token);
      assert.equal(await lastUsed(), now().toISOString());
    });

    test('list shows tokens with their user but never the hash; findByPrefix matches the display prefix', async () => {
      const bob = await store.users.create({ username: 'bob', role: 'developer' });
      const { record } = await store.tokens.create(bob.id, 'desk');
      const mine = await store.tokens.list({ userId: bob.id });
      assert.deepEqual(mine, [
        {
          id: record.id,
          name: 'desk',
          prefix: record.prefix,
          user_id: bob.id,
          username: 'bob',
          role: 'developer',
          created_at: record.created_at,
          last_used_at: null,
          revoked_at: null,
        },
      ]);
      assert.ok((await store.tokens.list()).length >= 4);
      for (const query of [record.prefix, `gbcms_${record.prefix}`, record.prefix.slice(0, 5)]) {
        assert.ok(
          (await store.tokens.findByPrefix(query)).some((x) => x.id === record.id),
          query,
        );
      }
      assert.deepEqual(await store.tokens.findByPrefix(''), []);
      assert.deepEqual(await store.tokens.findByPrefix('gbcms_'), []);
    });

    test('deleting a user deletes their tokens', async () => {
      const carol = await store.users.create({ username: 'carol', role: 'developer' });
      const { token } = await store.tokens.create(carol.id, 'x');
      await rawQuery(await location(), 'delete from users where id = ?', [carol.id]);
      assert.equal(await store.tokens.authenticate(token), undefined);
      assert.deepEqual(await store.tokens.list({ userId: carol.id }), []);
    });
  });
});
