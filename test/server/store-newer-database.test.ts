// A rollback to an older gbcms over a database a newer one migrated: the store refuses to open
// it, and `gbcms serve` says why and what to do, instead of writing to tables it does not know.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { packageVersion } from '../../engine/package-info.ts';
import { serveCommand } from '../../server/cli/serve.ts';
import { tokenCommand } from '../../server/cli/token.ts';
import { MigrationError } from '../../server/store/index.ts';
import { capture, runCommand } from '../helpers/cli.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { rawQuery } from './helpers/raw-database.ts';

forEachDatabase((databases) => {
  describe('a database newer than the code', () => {
    let dir = '';
    after(() => rm(dir, { recursive: true, force: true }));

    test('is refused by the store and by gbcms serve, naming the unknown migration', async () => {
      dir = await mkdtemp(join(tmpdir(), 'gbcms-newer-db-'));
      const data = join(dir, 'data');
      await (await databases.openStore(data)).close();
      await rawQuery(
        { dataDir: data, database: await databases.database(data) },
        'INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)',
        ['999-from-a-later-gbcms', new Date().toISOString()],
      );

      await assert.rejects(databases.openStore(data), (error: unknown) => {
        assert.ok(error instanceof MigrationError);
        assert.match(
          error.message,
          new RegExp(`newer than this gbcms ${packageVersion().replaceAll('.', '\\.')}`),
        );
        assert.match(error.message, /999-from-a-later-gbcms/);
        return true;
      });

      const stdout = capture();
      const stderr = capture();
      const where = await databases.databaseArgs(data);
      const code = await serveCommand(['--port', '0', '--data', data, ...where, '--backend', 'local'], {
        stdout,
        stderr,
        cwd: dir,
        env: {},
      });
      assert.equal(code, 1);
      assert.match(stderr.text(), /newer than this gbcms[\s\S]*999-from-a-later-gbcms/);

      const listed = await runCommand(tokenCommand, ['list', '--data', data, ...where], { cwd: dir });
      assert.equal(listed.code, 1);
      assert.match(listed.stderr, /^gbcms token: the database is newer than this gbcms/);
    });

    test('a database at the code’s own migrations opens as before', async () => {
      const data = join(dir, 'current');
      await (await databases.openStore(data)).close();
      const store = await databases.openStore(data);
      assert.deepEqual(store.migrated, []);
      await store.close();
    });
  });
});
