// Tokens checked recently are kept briefly by hash (server/store/token-cache.ts): what that
// changes, and what it must not (a revocation in this process counts at once).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore, type Store } from '../../server/store/index.ts';
import { TOKEN_CACHE_TTL_MS } from '../../server/store/token-cache.ts';
import { withRawDatabase } from './helpers/raw-database.ts';

describe('API token cache', () => {
  let dir: string;
  let clock: Date;
  let store: Store;
  let other: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gbcms-token-cache-'));
    clock = new Date('2026-01-01T00:00:00Z');
    store = await openStore(dir, { now: () => clock });
    // A second store on the same folder, as a route's and a CLI command's in one process.
    other = await openStore(dir, { now: () => clock });
  });
  after(async () => {
    await store.close();
    await other.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function newToken(username: string) {
    const user = await store.users.create({ username, role: 'developer' });
    return (await store.tokens.create(user.id, 'test')).token;
  }

  test('a revocation through any store of the process refuses the token on the next check', async () => {
    const token = await newToken('alice');
    assert.equal((await store.tokens.authenticate(token))?.user.username, 'alice');
    assert.equal((await store.tokens.authenticate(token))?.user.username, 'alice');
    const [info] = await store.tokens.findByPrefix(token.slice(0, 14));
    assert.ok(info);
    assert.equal(await other.tokens.revoke(info.id), true);
    assert.equal(await store.tokens.authenticate(token), undefined);
    assert.equal(await other.tokens.authenticate(token), undefined);
  });

  test('a revocation another process wrote is seen once the cached check expires', async () => {
    const token = await newToken('bob');
    assert.equal((await store.tokens.authenticate(token))?.user.username, 'bob');
    // Another process (gbcms token revoke) only changes the row.
    withRawDatabase(dir, (db) =>
      db
        .prepare(
          "update api_tokens set revoked_at = '2026-01-01T00:00:01Z' where user_id = (select id from users where username = 'bob')",
        )
        .run(),
    );
    assert.equal((await store.tokens.authenticate(token))?.user.username, 'bob', 'still cached');
    assert.equal(
      await other.tokens.authenticate(token),
      undefined,
      'a store that did not check it reads the row',
    );
    clock = new Date(clock.getTime() + TOKEN_CACHE_TTL_MS);
    assert.equal(await store.tokens.authenticate(token), undefined);
  });
});
