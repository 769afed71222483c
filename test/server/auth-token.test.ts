import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseBearer } from '../../server/auth/bearer.ts';
import {
  DISPLAY_PREFIX_LENGTH,
  displayPrefix,
  generateToken,
  hashToken,
  isTokenShaped,
} from '../../server/auth/token-crypto.ts';

describe('token crypto', () => {
  test('tokens are gbcms_ plus 32 random bytes in base64url', () => {
    const tokens = Array.from({ length: 200 }, generateToken);
    assert.equal(new Set(tokens).size, 200);
    for (const token of tokens) {
      assert.match(token, /^gbcms_[A-Za-z0-9_-]{43}$/);
      assert.equal(Buffer.from(token.slice(6), 'base64url').length, 32);
      assert.ok(isTokenShaped(token));
    }
  });

  test('the hash is sha256 hex of the whole token', () => {
    // sha256("gbcms_test"), computed independently with `printf gbcms_test | sha256sum`.
    assert.equal(hashToken('gbcms_test'), '30dc247a4a2a053bf735085bdb3e6d18577eeb283ad89cfeea5c4ba69c85a7fa');
  });

  test('the display prefix is taken after gbcms_', () => {
    const token = `gbcms_${'AbCdEfGh'}${'x'.repeat(35)}`;
    assert.equal(displayPrefix(token), 'AbCdEfGh');
    assert.equal(displayPrefix(token).length, DISPLAY_PREFIX_LENGTH);
  });

  test('strings that cannot be tokens are recognised', () => {
    const good = generateToken();
    for (const bad of [
      '',
      'gbcms_',
      good.slice(6),
      `${good}x`,
      good.slice(0, -1),
      `ghp_${good.slice(6)}`,
      `${good}\n`,
    ]) {
      assert.equal(isTokenShaped(bad), false, JSON.stringify(bad));
    }
  });
});

describe('bearer header', () => {
  test('parses Bearer tokens, tells absent from malformed', () => {
    assert.deepEqual(parseBearer(undefined), { kind: 'none' });
    assert.deepEqual(parseBearer('  '), { kind: 'none' });
    assert.deepEqual(parseBearer('Bearer abc'), { kind: 'token', token: 'abc' });
    assert.deepEqual(parseBearer('bearer   abc '), { kind: 'token', token: 'abc' });
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'abc', 'Bearerabc']) {
      assert.deepEqual(parseBearer(header), { kind: 'malformed' }, header);
    }
  });
});
