// The server's cache rules without Docker: whose scope an execution gets, and what the sweep
// removes from a listing (the real engine runs them in test/server/caches-docker.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executionCacheScope, projectOfCacheScope } from '../../server/executions/cache-scope.ts';
import { planCacheRemovals } from '../../server/executions/cache-sweep.ts';

describe('cache scopes on the server', () => {
  test("a project's branches share a scope; forks get one per fork repository", () => {
    const push = {
      trigger: { event: 'push' as const, branch: 'main' },
      source: { kind: 'project' as const },
    };
    assert.equal(executionCacheScope('p1', push), 'project:p1');
    const samePr = { ...push, trigger: { event: 'pull_request' as const, branch: 'feature' } };
    assert.equal(executionCacheScope('p1', samePr), 'project:p1');
    const fork = (repo: string) => ({
      trigger: { event: 'pull_request' as const, branch: 'main', fork: true },
      source: { kind: 'git' as const, repo },
    });
    assert.equal(executionCacheScope('p1', fork('https://x/a.git')), 'project:p1:fork:https://x/a.git');
    assert.notEqual(
      executionCacheScope('p1', fork('https://x/a.git')),
      executionCacheScope('p1', fork('https://x/b.git')),
    );
    const deleted = {
      trigger: { event: 'pull_request' as const, branch: 'fix', fork: true },
      source: { kind: 'project' as const },
    };
    assert.equal(executionCacheScope('p1', deleted), 'project:p1:fork:deleted-fork-branch:fix');
    assert.equal(projectOfCacheScope('project:p1:fork:https://x/a.git'), 'p1');
    assert.equal(projectOfCacheScope('project:p1'), 'p1');
    assert.equal(projectOfCacheScope('repository:/home/me/app'), undefined);
  });
});

describe('cache sweep: what goes', () => {
  const cache = (key: string, over: Partial<Parameters<typeof planCacheRemovals>[0][number]> = {}) => ({
    key,
    scope: 'project:p1',
    slot: 's1',
    sizeBytes: 10,
    inUse: false,
    createdAt: '2030-01-01T00:00:00Z',
    projectId: 'p1',
    lastUsed: '2030-01-01T00:00:00Z',
    ...over,
  });
  const removed = (...args: Parameters<typeof planCacheRemovals>) =>
    planCacheRemovals(...args).map((r) => `${r.cache.key}: ${r.why}`);

  test('older keys of a slot unused for a week go; the newest key stays', () => {
    const caches = [
      cache('old', { lastUsed: '2030-01-01T00:00:00Z' }),
      // Another branch's lock file: replaced, but used within the week.
      cache('other-branch', { lastUsed: '2030-01-08T00:00:00Z' }),
      cache('new', { lastUsed: '2030-01-09T00:00:00Z' }),
      cache('fork', { scope: 'project:p1:fork:x', lastUsed: '2030-01-01T00:00:00Z' }),
    ];
    assert.deepEqual(removed(caches, new Set(['p1']), 1000, new Date('2030-01-10T00:00:00Z')), [
      'old: a newer key of its slot replaced it a week or more ago',
    ]);
    // A week later the other branch's key goes too, unless it was used again.
    assert.deepEqual(removed(caches, new Set(['p1']), 1000, new Date('2030-01-16T00:00:00Z')).sort(), [
      'old: a newer key of its slot replaced it a week or more ago',
      'other-branch: a newer key of its slot replaced it a week or more ago',
    ]);
  });

  test('past the budget the least recently used go, over all tiers of the project; never one in use', () => {
    const caches = [
      cache('a', { slot: 'a', lastUsed: '2030-01-01T00:00:00Z', inUse: true }),
      cache('b', { slot: 'b', lastUsed: '2030-01-02T00:00:00Z' }),
      cache('c', { slot: 'c', scope: 'project:p1:fork:x', lastUsed: '2030-01-03T00:00:00Z' }),
      cache('d', { slot: 'd', lastUsed: '2030-01-04T00:00:00Z' }),
      cache('other', { slot: 'a', scope: 'project:p3', projectId: 'p3', sizeBytes: 15 }),
    ];
    assert.deepEqual(removed(caches, new Set(['p1', 'p3']), 20, new Date('2030-01-05T00:00:00Z')), [
      "b: its project's caches pass the budget; it was used least recently",
      "c: its project's caches pass the budget; it was used least recently",
    ]);
  });

  test("caches of a project this database does not have are another server's: every rule passes them by", () => {
    const caches = [
      cache('ours', { lastUsed: '2030-01-09T00:00:00Z' }),
      // Stale in its slot, over any budget: still not this server's to judge.
      cache('theirs-old', { scope: 'project:p2', projectId: 'p2', sizeBytes: 5000 }),
      cache('theirs-new', { scope: 'project:p2', projectId: 'p2', lastUsed: '2030-01-09T00:00:00Z' }),
    ];
    assert.deepEqual(removed(caches, new Set(['p1']), 100, new Date('2030-02-01T00:00:00Z')), []);
  });
});
