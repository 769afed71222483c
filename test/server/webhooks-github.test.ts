import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { GITHUB_PUSH_COMMIT_LIMIT, interpretGithubEvent } from '../../server/webhooks/github.ts';
import type { WebhookDecision } from '../../server/webhooks/types.ts';

// Real payloads GitHub sent, collected by the octokit project.
interface Definition {
  name: string;
  examples: Record<string, unknown>[];
}
const examplesFile = createRequire(import.meta.url).resolve('@octokit/webhooks-examples');
const definitions: Definition[] = JSON.parse(readFileSync(examplesFile, 'utf8'));

function examples(name: string): Record<string, unknown>[] {
  const found = definitions.find((d) => d.name === name)?.examples ?? [];
  assert.ok(found.length > 0, `no ${name} examples`);
  return found;
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

function triggerOf(decision: WebhookDecision) {
  assert.equal(decision.kind, 'trigger', JSON.stringify(decision));
  if (decision.kind !== 'trigger') throw new Error('unreachable');
  return decision.trigger;
}

function reasonOf(decision: WebhookDecision): string {
  assert.equal(decision.kind, 'ignore', JSON.stringify(decision));
  return decision.kind === 'ignore' ? decision.reason : '';
}

const TAG_PUSH_SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const PR_HEAD_SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
const CLONE_URL = 'https://github.com/Codertocat/Hello-World.git';

describe('GitHub push examples', () => {
  test('every example maps to a branch push, a tag, or an ignored deletion', () => {
    const seen = new Set<string>();
    for (const payload of examples('push')) {
      const decision = interpretGithubEvent('push', payload);
      const ref = String(payload.ref);
      if (payload.deleted === true) {
        assert.match(reasonOf(decision), /was deleted/);
        seen.add('deletion');
        continue;
      }
      const trigger = triggerOf(decision);
      assert.equal(trigger.commit, payload.after);
      assert.equal(trigger.cloneUrl, CLONE_URL);
      if (ref.startsWith('refs/heads/')) {
        assert.equal(trigger.event, 'push');
        assert.equal(trigger.branch, ref.slice('refs/heads/'.length));
        seen.add('branch');
      } else {
        assert.equal(trigger.event, 'tag');
        assert.equal(trigger.tag, ref.slice('refs/tags/'.length));
        seen.add('tag');
      }
    }
    assert.deepEqual([...seen].sort(), ['branch', 'deletion', 'tag']);
  });

  test('a new branch carries the head commit and the changed files', () => {
    const payload = examples('push').find((p) => p.ref === 'refs/heads/master');
    assert.deepEqual(triggerOf(interpretGithubEvent('push', payload)), {
      event: 'push',
      branch: 'master',
      commit: TAG_PUSH_SHA,
      author: 'Codertocat',
      message: 'Initial commit',
      changedPaths: ['README.md'],
      cloneUrl: CLONE_URL,
    });
  });

  test('a new tag lists no commits, so its changed files are unknown', () => {
    const payload = examples('push').find((p) => p.ref === 'refs/tags/simple-tag' && p.deleted === false);
    assert.deepEqual(triggerOf(interpretGithubEvent('push', payload)), {
      event: 'tag',
      tag: 'simple-tag',
      commit: TAG_PUSH_SHA,
      author: 'Codertocat',
      message: 'Adding a .gitignore file',
      cloneUrl: CLONE_URL,
    });
  });
});

describe('GitHub push payloads, edited', () => {
  const base = () => copy(examples('push').find((p) => p.ref === 'refs/heads/master') ?? {});
  const commitWith = (added: string[], modified: string[], removed: string[]) => ({
    id: 'x',
    added,
    modified,
    removed,
  });

  test('changed paths are the union over all listed commits', () => {
    const payload = base();
    payload.commits = [
      commitWith(['a.ts'], ['b.ts'], []),
      commitWith([], ['a.ts'], ['c.ts']),
      commitWith(['d/e.ts'], [], []),
    ];
    assert.deepEqual(triggerOf(interpretGithubEvent('push', payload)).changedPaths, [
      'a.ts',
      'b.ts',
      'c.ts',
      'd/e.ts',
    ]);
  });

  test('changed paths are unknown when the commit list may be cut short, is empty, or is malformed', () => {
    const capped = base();
    capped.commits = Array.from({ length: GITHUB_PUSH_COMMIT_LIMIT }, () => commitWith(['a'], [], []));
    const forced = base();
    forced.forced = true;
    forced.commits = [];
    const badFiles = base();
    badFiles.commits = [commitWith(['a'], [], []), { id: 'y', added: [1], modified: [], removed: [] }];
    const noLists = base();
    noLists.commits = [{ id: 'y' }];
    const notArray = base();
    notArray.commits = 'many';
    for (const payload of [capped, forced, badFiles, noLists, notArray]) {
      const trigger = triggerOf(interpretGithubEvent('push', payload));
      assert.equal(trigger.changedPaths, undefined);
      assert.equal(trigger.commit, TAG_PUSH_SHA);
    }
    const justUnder = base();
    justUnder.commits = Array.from({ length: GITHUB_PUSH_COMMIT_LIMIT - 1 }, (_, i) =>
      commitWith([`f${i % 3}`], [], []),
    );
    assert.deepEqual(triggerOf(interpretGithubEvent('push', justUnder)).changedPaths, ['f0', 'f1', 'f2']);
  });

  test('deletions are ignored whether flagged or only all-zero', () => {
    const flagged = base();
    flagged.deleted = true;
    const zero = base();
    zero.after = '0'.repeat(40);
    zero.deleted = undefined;
    for (const payload of [flagged, zero])
      assert.match(reasonOf(interpretGithubEvent('push', payload)), /"refs\/heads\/master" was deleted/);
  });

  test('refs that are not branches or tags, or not valid names, are ignored', () => {
    const cases: [string, RegExp][] = [
      ['refs/notes/commits', /neither a branch/],
      ['refs/heads/a..b', /contains '\.\.'/],
      ['refs/heads/--upload-pack=x', /branch name "--upload-pack=x" starts with '-'/],
      ['refs/heads/x\nInjected: 1', /control character/],
      ['main', /neither a branch/],
    ];
    for (const [ref, reason] of cases) {
      const payload = base();
      payload.ref = ref;
      assert.match(reasonOf(interpretGithubEvent('push', payload)), reason, ref);
    }
  });

  test('missing or mistyped fields are ignored with a reason, never thrown', () => {
    const cases: [unknown, RegExp][] = [
      [null, /not a JSON object/],
      [[], /not a JSON object/],
      ['push', /not a JSON object/],
      [42, /not a JSON object/],
      [{}, /no 'ref'/],
      [{ ...base(), ref: 5 }, /no 'ref'/],
      [{ ...base(), after: undefined }, /no valid 'after'/],
      [{ ...base(), after: 'HEAD' }, /no valid 'after'/],
      [{ ...base(), after: TAG_PUSH_SHA.toUpperCase() }, /no valid 'after'/],
    ];
    for (const [payload, reason] of cases)
      assert.match(reasonOf(interpretGithubEvent('push', payload)), reason);
  });

  test('wrongly typed optional fields are left out rather than passed on', () => {
    const payload = base();
    payload.head_commit = { id: TAG_PUSH_SHA, message: 42, author: 'not an object' };
    payload.repository = { clone_url: ['x'] };
    assert.deepEqual(triggerOf(interpretGithubEvent('push', payload)), {
      event: 'push',
      branch: 'master',
      commit: TAG_PUSH_SHA,
      changedPaths: ['README.md'],
    });
  });
});

describe('GitHub pull_request examples', () => {
  test('opened, synchronize and reopened start an execution of the head commit; other actions do not', () => {
    const started = new Set<string>();
    for (const payload of examples('pull_request')) {
      const action = String(payload.action);
      const decision = interpretGithubEvent('pull_request', payload);
      if (['opened', 'synchronize', 'reopened'].includes(action)) {
        assert.deepEqual(triggerOf(decision), {
          event: 'pull_request',
          branch: 'changes',
          commit: PR_HEAD_SHA,
          author: 'Codertocat',
          message: 'Update the README with new information.',
          cloneUrl: CLONE_URL,
          prNumber: 2,
          fork: false,
        });
        started.add(action);
      } else {
        assert.equal(reasonOf(decision), `pull_request action "${action}" does not start executions`);
      }
    }
    assert.deepEqual([...started].sort(), ['opened', 'reopened', 'synchronize']);
  });

  test('a fork that was deleted leaves the clone URL out', () => {
    const payload = copy(examples('pull_request').find((p) => p.action === 'opened') ?? {});
    const pr = payload.pull_request as { head: { repo: unknown } };
    pr.head.repo = null;
    const trigger = triggerOf(interpretGithubEvent('pull_request', payload));
    assert.equal(trigger.cloneUrl, undefined);
    assert.equal(trigger.commit, PR_HEAD_SHA);
    // Nothing to compare with the base: it counts as a fork, so it gets no secrets.
    assert.equal(trigger.fork, true);
  });

  test('a head in another repository than the base is a fork, whatever its clone URL says', () => {
    const payload = copy(examples('pull_request').find((p) => p.action === 'opened') ?? {});
    const pr = payload.pull_request as { head: { repo: { full_name: string } } };
    pr.head.repo.full_name = 'forker/Hello-World';
    assert.equal(triggerOf(interpretGithubEvent('pull_request', payload)).fork, true);
    const missingBase = copy(examples('pull_request').find((p) => p.action === 'opened') ?? {});
    (missingBase.pull_request as { base: unknown }).base = {};
    assert.equal(triggerOf(interpretGithubEvent('pull_request', missingBase)).fork, true);
  });

  test('malformed pull requests are ignored with a reason', () => {
    const opened = () => copy(examples('pull_request').find((p) => p.action === 'opened') ?? {});
    const edit = (
      change: (
        p: Record<string, unknown>,
        pr: Record<string, unknown>,
        head: Record<string, unknown>,
      ) => void,
    ) => {
      const payload = opened();
      const pr = payload.pull_request as Record<string, unknown>;
      change(payload, pr, pr.head as Record<string, unknown>);
      return payload;
    };
    const cases: [unknown, RegExp][] = [
      [null, /not a JSON object/],
      [{ action: 'opened' }, /no 'pull_request' object/],
      [edit((p) => delete p.action), /no 'action'/],
      [
        edit((p, pr) => {
          p.number = undefined;
          pr.number = undefined;
        }),
        /number/,
      ],
      [edit((p) => (p.number = -3)), /number/],
      [edit((p) => (p.number = 2.5)), /number/],
      [edit((p) => (p.number = '2')), /number/],
      [edit((_p, pr) => (pr.head = 'changes')), /no 'head.ref'/],
      [edit((_p, _pr, head) => (head.ref = '--upload-pack=touch x')), /starts with '-'/],
      [edit((_p, _pr, head) => (head.sha = 'not-a-sha')), /no valid 'head.sha'/],
      [edit((_p, _pr, head) => delete head.sha), /no valid 'head.sha'/],
    ];
    for (const [payload, reason] of cases)
      assert.match(reasonOf(interpretGithubEvent('pull_request', payload)), reason);
  });
});

describe('other GitHub events', () => {
  test('ping is a ping', () => {
    for (const payload of examples('ping'))
      assert.deepEqual(interpretGithubEvent('ping', payload), { kind: 'ping' });
  });

  test('every other event in the examples is ignored, naming the event', () => {
    for (const definition of definitions) {
      if (['push', 'pull_request', 'ping'].includes(definition.name)) continue;
      for (const payload of definition.examples) {
        assert.equal(
          reasonOf(interpretGithubEvent(definition.name, payload)),
          `GitHub event "${definition.name}" does not start executions`,
        );
      }
    }
  });

  test('an odd event name is quoted, not echoed raw', () => {
    assert.equal(
      reasonOf(interpretGithubEvent('x\u001b[2J', {})),
      'GitHub event "x\\u001b[2J" does not start executions',
    );
  });
});

describe('untrusted input', () => {
  const events = ['push', 'pull_request', 'ping', 'issues'];

  test('any JSON value gives a decision and never throws', () => {
    fc.assert(
      fc.property(fc.constantFrom(...events), fc.jsonValue(), (name, payload) => {
        assert.ok(['ping', 'ignore', 'trigger'].includes(interpretGithubEvent(name, payload).kind));
      }),
      { numRuns: 2000 },
    );
  });

  test('replacing any field of a real payload with junk never throws, and a trigger always has a valid commit', () => {
    const samples = [...examples('push'), ...examples('pull_request')];
    fc.assert(
      fc.property(
        fc.constantFrom(...samples.keys()),
        fc.array(fc.string()),
        fc.jsonValue(),
        (index, path, junk) => {
          const payload = copy(samples[index] ?? {});
          setPath(payload, path, junk);
          const decision = interpretGithubEvent('ref' in payload ? 'push' : 'pull_request', payload);
          if (decision.kind === 'trigger') assert.match(decision.trigger.commit, /^[0-9a-f]{40}$/);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** Sets a nested field, following existing keys where `path` names them. */
function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (const [i, wanted] of path.entries()) {
    const keys = Object.keys(node);
    const key = keys.length > 0 ? (keys[wanted.length % keys.length] ?? wanted) : wanted;
    const next = node[key];
    if (i === path.length - 1 || typeof next !== 'object' || next === null) {
      node[key] = value;
      return;
    }
    node = next as Record<string, unknown>;
  }
}
