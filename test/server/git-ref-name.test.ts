import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isObjectId, isZeroObjectId, refNameProblem } from '../../server/git/ref-name.ts';

describe('refNameProblem', () => {
  test('accepts ordinary branch, tag and pull request refs', () => {
    for (const name of [
      'main',
      'refs/heads/main',
      'feature/login-form',
      'refs/tags/v1.2.3',
      'refs/pull/7/head',
      'release_2024',
      'a@b',
    ]) {
      assert.equal(refNameProblem(name), undefined, name);
    }
  });

  test('refuses what git refuses, and what would read as an option or a refspec', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['-main', /starts with '-'/],
      ['--upload-pack=x', /starts with '-'/],
      ['+main', /starts with '\+'/],
      ['main:refs/heads/x', /one of/],
      ['a b', /space or control/],
      ['a\nb', /space or control/],
      ['a\u007fb', /space or control/],
      ['a~1', /one of/],
      ['a^', /one of/],
      ['a?', /one of/],
      ['a*', /one of/],
      ['a[b', /one of/],
      ['a\\b', /one of/],
      ['a..b', /'\.\.'/],
      ['a@{1}', /'@\{'/],
      ['@', /'@\{'/],
      ['/main', /empty path component/],
      ['main/', /empty path component/],
      ['a//b', /empty path component/],
      ['main.', /ends with '\.'/],
      ['refs/heads/.hidden', /starting with '\.'/],
      ['refs/heads/x.lock', /ending with '\.lock'/],
      ['x'.repeat(1025), /longer than 1024/],
    ];
    for (const [name, problem] of cases)
      assert.match(refNameProblem(name) ?? 'accepted', problem, JSON.stringify(name));
  });
});

describe('object ids', () => {
  test('are full lowercase SHA-1 or SHA-256 hex', () => {
    assert.ok(isObjectId('a'.repeat(40)));
    assert.ok(isObjectId('0123456789abcdef'.repeat(4)));
    for (const id of ['a'.repeat(39), 'a'.repeat(41), 'A'.repeat(40), 'g'.repeat(40), 'HEAD', ''])
      assert.ok(!isObjectId(id), id);
    assert.ok(isZeroObjectId('0'.repeat(40)));
    assert.ok(isZeroObjectId('0'.repeat(64)));
    assert.ok(!isZeroObjectId(`${'0'.repeat(39)}1`));
  });
});
