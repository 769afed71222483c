import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { open, seal } from '../../server/secrets/crypto.ts';
import { createKeyFile, KEY_FILE, loadSecretKey, SecretKeyError } from '../../server/secrets/key.ts';
import { isSecretName, secretRefusal } from '../../server/secrets/policy.ts';

describe('sealing secret values', () => {
  const key = randomBytes(32);

  test('a value opens with its key, scope and name, and with nothing else', () => {
    const sealed = seal(key, 'project:p1', 'DEPLOY_KEY', 'hunter2-but-longer');
    assert.equal(sealed.nonce.length, 12);
    assert.ok(!sealed.ciphertext.includes(Buffer.from('hunter2')));
    assert.equal(open(key, 'project:p1', 'DEPLOY_KEY', sealed), 'hunter2-but-longer');
    assert.throws(() => open(key, 'project:p2', 'DEPLOY_KEY', sealed));
    assert.throws(() => open(key, 'project:p1', 'OTHER_KEY', sealed));
    assert.throws(() => open(key, 'global', 'DEPLOY_KEY', sealed));
    assert.throws(() => open(randomBytes(32), 'project:p1', 'DEPLOY_KEY', sealed));
    const tampered = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext) };
    tampered.ciphertext[0] = (tampered.ciphertext[0] ?? 0) ^ 1;
    assert.throws(() => open(key, 'project:p1', 'DEPLOY_KEY', tampered));
  });

  test('every value gets its own nonce', () => {
    const a = seal(key, 'global', 'NPM_TOKEN', 'same value');
    const b = seal(key, 'global', 'NPM_TOKEN', 'same value');
    assert.notDeepEqual(a.nonce, b.nonce);
    assert.notDeepEqual(a.ciphertext, b.ciphertext);
  });
});

describe('the secret key', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gbcms-key-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the key file is made on first use with mode 600, then read back the same', async () => {
    const data = join(dir, 'first');
    await mkdir(data);
    const first = await loadSecretKey(data, {});
    assert.equal(first.key.length, 32);
    assert.equal(first.source, join(data, KEY_FILE));
    assert.equal((await stat(first.source)).mode & 0o777, 0o600);
    const again = await loadSecretKey(data, {});
    assert.deepEqual(again.key, first.key);
    assert.equal(await createKeyFile(first.source), false, 'an existing key file is never overwritten');
  });

  test('racing creators end with one complete key', async () => {
    const data = join(dir, 'race');
    await mkdir(data);
    const path = join(data, KEY_FILE);
    const made = await Promise.all(Array.from({ length: 8 }, () => createKeyFile(path)));
    assert.equal(made.filter(Boolean).length, 1);
    assert.match(await readFile(path, 'utf8'), /^[A-Za-z0-9+/]{43}=\n$/);
  });

  test('a key file others can read, or that is not a regular file, is refused', async () => {
    const data = join(dir, 'loose');
    await mkdir(data);
    await loadSecretKey(data, {});
    await chmod(join(data, KEY_FILE), 0o640);
    await assert.rejects(loadSecretKey(data, {}), (error: Error) => {
      assert.ok(error instanceof SecretKeyError);
      assert.match(error.message, /can be read by others \(mode 640\)/);
      return true;
    });
    const linked = join(dir, 'linked');
    await mkdir(linked);
    await writeFile(join(dir, 'elsewhere.key'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    await symlink(join(dir, 'elsewhere.key'), join(linked, KEY_FILE));
    await assert.rejects(loadSecretKey(linked, {}), /not a regular file/);
  });

  test('GBCMS_SECRET_KEY wins over the file and must be 32 bytes of base64', async () => {
    const data = join(dir, 'env');
    await mkdir(data);
    const key = randomBytes(32);
    const loaded = await loadSecretKey(data, { GBCMS_SECRET_KEY: key.toString('base64') });
    assert.deepEqual(loaded.key, key);
    assert.equal(loaded.source, 'GBCMS_SECRET_KEY');
    await assert.rejects(
      loadSecretKey(data, { GBCMS_SECRET_KEY: randomBytes(16).toString('base64') }),
      /32 bytes/,
    );
    await assert.rejects(loadSecretKey(data, { GBCMS_SECRET_KEY: 'not base64!' }), /32 bytes/);
  });
});

describe('which runs may have a secret', () => {
  const open = { events: null, branches: null };

  test('names follow the pipeline file: a variable name of 4 characters or more', () => {
    assert.ok(isSecretName('DEPLOY_KEY'));
    assert.ok(isSecretName('_abc'));
    for (const bad of ['KEY', '1ABC', 'A-B-C', 'A B C', '', 'x'.repeat(129)])
      assert.ok(!isSecretName(bad), bad);
  });

  test('pull requests from forks never get one, whatever its limits', () => {
    assert.equal(
      secretRefusal('DEPLOY_KEY', open, { event: 'pull_request', branch: 'main', fork: true }),
      'secret DEPLOY_KEY is not available to pull requests from forks',
    );
    assert.equal(secretRefusal('DEPLOY_KEY', open, { event: 'pull_request', branch: 'main' }), undefined);
  });

  test('events and branch globs limit it, and the refusal names the rule', () => {
    const limits = { events: ['push', 'tag'] as const, branches: ['main', 'release/*'] };
    const refuse = (trigger: Parameters<typeof secretRefusal>[2]) =>
      secretRefusal('DEPLOY_KEY', limits, trigger);
    assert.equal(refuse({ event: 'push', branch: 'main' }), undefined);
    assert.equal(refuse({ event: 'push', branch: 'release/1.2' }), undefined);
    assert.equal(
      refuse({ event: 'pull_request', branch: 'main' }),
      'secret DEPLOY_KEY is not available to pull_request events (allowed: push, tag)',
    );
    assert.equal(
      refuse({ event: 'push', branch: 'feature/x' }),
      'secret DEPLOY_KEY is not available on branch feature/x (allowed: main, release/*)',
    );
    assert.equal(
      refuse({ event: 'tag', tag: 'v1' }),
      'secret DEPLOY_KEY is limited to branches main, release/*, and this tag run is on no branch',
    );
    assert.equal(
      secretRefusal('DEPLOY_KEY', { events: ['tag'], branches: null }, { event: 'tag', tag: 'v1' }),
      undefined,
    );
  });
});
