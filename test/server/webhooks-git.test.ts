import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { interpretGitNotification } from '../../server/webhooks/git.ts';

const OLD = '1'.repeat(40);
const NEW = 'abcdef0123456789abcdef0123456789abcdef01';
const ZERO = '0'.repeat(40);
const body = (fields: Record<string, unknown>) => ({
  ref: 'refs/heads/main',
  before: OLD,
  after: NEW,
  repository: '/srv/git/web.git',
  pusher: 'grace',
  ...fields,
});

describe('interpretGitNotification', () => {
  test('a branch update is a push of the new commit', () => {
    assert.deepEqual(interpretGitNotification(body({})), {
      kind: 'trigger',
      trigger: { event: 'push', branch: 'main', commit: NEW },
    });
    assert.deepEqual(interpretGitNotification(body({ ref: 'refs/heads/feature/x', before: ZERO })), {
      kind: 'trigger',
      trigger: { event: 'push', branch: 'feature/x', commit: NEW },
    });
  });

  test('a tag is a tag', () => {
    assert.deepEqual(interpretGitNotification(body({ ref: 'refs/tags/v1.2.0', before: ZERO })), {
      kind: 'trigger',
      trigger: { event: 'tag', tag: 'v1.2.0', commit: NEW },
    });
  });

  test('SHA-256 repositories work too', () => {
    const after = 'a'.repeat(64);
    const decision = interpretGitNotification(body({ before: '0'.repeat(64), after }));
    assert.equal(decision.kind === 'trigger' && decision.trigger.commit, after);
  });

  test('deletions and refs other than branches and tags are ignored', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ after: ZERO }, '"refs/heads/main" was deleted'],
      [{ ref: 'refs/tags/v1', after: ZERO }, '"refs/tags/v1" was deleted'],
      [
        { ref: 'refs/notes/commits' },
        'ref "refs/notes/commits" is neither a branch (refs/heads/) nor a tag (refs/tags/)',
      ],
      [{ ref: 'refs/heads/-x' }, `branch name "-x" starts with '-'`],
      [{ ref: 'refs/heads/a b' }, 'ref "refs/heads/a b" contains a space or control character'],
    ];
    for (const [fields, reason] of cases) {
      assert.deepEqual(interpretGitNotification(body(fields)), { kind: 'ignore', reason });
    }
  });

  test('bodies of the wrong shape are ignored with a reason', () => {
    const cases: [unknown, RegExp][] = [
      [null, /not a JSON object/],
      ['refs/heads/main', /not a JSON object/],
      [[body({})], /not a JSON object/],
      [body({ ref: undefined }), /no 'ref'/],
      [body({ ref: 7 }), /no 'ref'/],
      [body({ before: undefined }), /'before'/],
      [body({ before: 'HEAD~1' }), /'before'/],
      [body({ after: NEW.slice(0, 12) }), /'after'/],
      [body({ after: NEW.toUpperCase() }), /'after'/],
      [body({ repository: 1 }), /'repository' is not a string/],
      [body({ pusher: { name: 'x' } }), /'pusher' is not a string/],
    ];
    for (const [payload, reason] of cases) {
      const decision = interpretGitNotification(payload);
      assert.equal(decision.kind, 'ignore', JSON.stringify(payload));
      if (decision.kind === 'ignore') assert.match(decision.reason, reason);
    }
  });

  test('never throws on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (payload) => {
        assert.notEqual(interpretGitNotification(payload).kind, 'ping');
      }),
      { numRuns: 2000 },
    );
  });
});
