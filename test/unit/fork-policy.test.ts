// The pure parts of fork pull requests: what each project setting makes of a trigger, how a
// blocked step weighs in a run's status, and what a forge is told while an execution waits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deriveRunStatus, isFinished } from '../../engine/status.ts';
import { commitStatus } from '../../server/forges/commit-status.ts';
import { FORKS_DISABLED, forkAdmission } from '../../server/projects/fork-policy.ts';
import { FORGES } from '../../server/store/index.ts';

describe('fork_pull_requests', () => {
  test('only a fork is held or refused; anything else runs whatever the setting', () => {
    for (const policy of ['approve', 'run', 'never'] as const) {
      assert.deepEqual(forkAdmission(policy, {}), { kind: 'run' }, policy);
      assert.deepEqual(forkAdmission(policy, { fork: false }), { kind: 'run' }, policy);
    }
    assert.deepEqual(forkAdmission('approve', { fork: true }), { kind: 'approve' });
    assert.deepEqual(forkAdmission('run', { fork: true }), { kind: 'run' });
    assert.deepEqual(forkAdmission('never', { fork: true }), { kind: 'refuse', reason: FORKS_DISABLED });
  });
});

describe('the blocked status', () => {
  test('is not finished, and a run with a blocked step and nothing running is blocked', () => {
    assert.equal(isFinished('blocked'), false);
    assert.equal(deriveRunStatus(['blocked']), 'blocked');
    assert.equal(deriveRunStatus(['success', 'blocked', 'pending']), 'blocked');
    assert.equal(deriveRunStatus(['running', 'blocked']), 'running', 'another branch still runs');
    assert.equal(deriveRunStatus(['success', 'pending']), 'running');
  });

  test('every forge is told pending, waiting for approval', () => {
    for (const forge of FORGES) {
      const status = commitStatus(forge, { status: 'blocked', reason: null, context: 'gbcms/app' });
      assert.deepEqual([status.state, status.description], ['pending', 'waiting for approval'], forge);
    }
  });
});
