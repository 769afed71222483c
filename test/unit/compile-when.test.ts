import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { whenSkipReason } from '../../engine/compile/when.ts';
import type { Trigger } from '../../engine/plan.ts';

const push: Trigger = {
  event: 'push',
  branch: 'main',
  commit: 'abc',
  changedPaths: ['src/app.ts', 'README.md'],
};

describe('whenSkipReason', () => {
  test('no when, or an empty one, always runs', () => {
    assert.equal(whenSkipReason(undefined, push), undefined);
    assert.equal(whenSkipReason({}, push), undefined);
  });

  test('branch: exact names and globs, any item of the list', () => {
    assert.equal(whenSkipReason({ branch: 'main' }, push), undefined);
    assert.equal(whenSkipReason({ branch: ['develop', 'main'] }, push), undefined);
    const release: Trigger = { event: 'push', branch: 'release/1.2' };
    assert.equal(whenSkipReason({ branch: ['main', 'release/*'] }, release), undefined);
    assert.equal(
      whenSkipReason({ branch: ['main', 'release/*'] }, { event: 'push', branch: 'feature/x' }),
      "when.branch: 'feature/x' does not match main, release/*",
    );
    // `*` stays inside one segment, `**` crosses them.
    assert.notEqual(
      whenSkipReason({ branch: 'release/*' }, { event: 'push', branch: 'release/a/b' }),
      undefined,
    );
    assert.equal(
      whenSkipReason({ branch: 'release/**' }, { event: 'push', branch: 'release/a/b' }),
      undefined,
    );
  });

  test('branch does not match when the trigger has no branch', () => {
    assert.equal(
      whenSkipReason({ branch: 'main' }, { event: 'manual' }),
      'when.branch: the trigger has no branch (wants main)',
    );
  });

  test('tag: globs, and no tag never matches', () => {
    const tag: Trigger = { event: 'tag', tag: 'v1.4.0' };
    assert.equal(whenSkipReason({ tag: 'v*' }, tag), undefined);
    assert.equal(whenSkipReason({ tag: 'release-*' }, tag), "when.tag: 'v1.4.0' does not match release-*");
    assert.equal(whenSkipReason({ tag: 'v*' }, push), 'when.tag: the trigger has no tag (wants v*)');
  });

  test('event: exact, one or a list', () => {
    assert.equal(whenSkipReason({ event: 'push' }, push), undefined);
    assert.equal(whenSkipReason({ event: ['tag', 'push'] }, push), undefined);
    assert.equal(
      whenSkipReason({ event: ['tag', 'manual'] }, push),
      "when.event: 'push' does not match tag, manual",
    );
  });

  test('path: any changed path matching any glob', () => {
    assert.equal(whenSkipReason({ path: '**/*.ts' }, push), undefined);
    assert.equal(whenSkipReason({ path: ['docs/**', 'README.md'] }, push), undefined);
    assert.equal(whenSkipReason({ path: 'src/**' }, push), undefined);
    assert.equal(
      whenSkipReason({ path: 'docs/**' }, push),
      'when.path: none of 2 changed paths matches docs/**',
    );
    // Dotfiles and ./-prefixed paths count.
    const ci: Trigger = { event: 'push', changedPaths: ['./.github/ci.yml'] };
    assert.equal(whenSkipReason({ path: '**/*.yml' }, ci), undefined);
  });

  test('path: unknown changes match, no changes do not', () => {
    assert.equal(whenSkipReason({ path: 'docs/**' }, { event: 'manual' }), undefined);
    assert.equal(
      whenSkipReason({ path: 'docs/**' }, { event: 'push', changedPaths: [] }),
      'when.path: none of 0 changed paths matches docs/**',
    );
  });

  test('all conditions must match; every failing one is named, in file order', () => {
    assert.equal(whenSkipReason({ branch: 'main', event: 'push', path: 'src/**' }, push), undefined);
    assert.equal(
      whenSkipReason({ event: 'tag', branch: 'main' }, push),
      "when.event: 'push' does not match tag",
    );
    assert.equal(
      whenSkipReason({ event: 'tag', branch: 'dev' }, push),
      "when.event: 'push' does not match tag; when.branch: 'main' does not match dev",
    );
  });
});
