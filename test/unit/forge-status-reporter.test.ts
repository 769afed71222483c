import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StepRecord } from '../../engine/run-record.ts';
import { ForgePostError, type StatusPoster } from '../../server/forges/posters.ts';
import { StatusReporter } from '../../server/forges/status-reporter.ts';
import type { Execution, ExecutionForge, Project } from '../../server/store/index.ts';
import { pollUntil } from '../helpers/poll.ts';

const SHA = 'a'.repeat(40);

function execution(status: Execution['status'], id = 'e1'): Execution {
  return { id, project_id: 'p1', status, commit_sha: SHA, reason: null, external: 0 } as Execution;
}

function harness(poster: StatusPoster, token: string | null = 'secret', stepStatuses = false) {
  const forges = new Map<string, ExecutionForge>([
    ['e1', { execution_id: 'e1', forge: 'github', repo: 'org/app', problem: null }],
  ]);
  const notices: string[] = [];
  const reporter = new StatusReporter({
    store: {
      forges: {
        set: async () => undefined,
        get: async (id) => forges.get(id),
        setProblem: async (id, problem) => {
          const row = forges.get(id);
          if (row) row.problem = problem;
        },
      },
      projects: { get: async () => ({ id: 'p1', name: 'app' }) as Project } as never,
      statusSettings: {
        get: async () => ({ step_statuses: stepStatuses, git_hook_forge: null }),
        set: async () => undefined,
      },
    },
    tokens: { forgeToken: async () => token ?? undefined },
    posters: { github: poster },
    executionPage: (id) => `https://ci.example.com/executions/${id}`,
    notice: (_id, message) => {
      notices.push(message);
      return true;
    },
    logger: { info: () => undefined, warn: () => undefined },
    retryDelaysMs: [20, 20, 20],
  });
  return { reporter, forges, notices };
}

describe('the status reporter', () => {
  test('posts in order, one at a time; a state still retrying gives way to a newer one', async () => {
    const posted: string[] = [];
    let inFlight = 0;
    const poster: StatusPoster = {
      async post(_target, _sha, status) {
        inFlight += 1;
        assert.equal(inFlight, 1, 'one post at a time per execution');
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        posted.push(status.description);
        // The first try of `queued` fails: by its retry, newer states are waiting.
        if (posted.length === 1) throw new ForgePostError('busy', 503);
      },
    };
    const { reporter, notices } = harness(poster);
    reporter.observe(execution('pending'));
    await new Promise((resolve) => setTimeout(resolve, 1));
    reporter.observe(execution('running'));
    reporter.observe(execution('success'));
    await reporter.idle();
    assert.deepEqual(posted, ['queued', 'passed']);
    assert.deepEqual(notices, []);
  });

  test('gives up after the bounded retries with a notice and a stored problem; a later success clears it', async () => {
    let fail = true;
    const tries: string[] = [];
    const poster: StatusPoster = {
      async post(_target, _sha, status) {
        tries.push(status.state);
        if (fail) throw new ForgePostError('unreachable');
      },
    };
    const { reporter, forges, notices } = harness(poster);
    reporter.observe(execution('running'));
    await reporter.idle();
    assert.deepEqual(tries, ['pending', 'pending', 'pending', 'pending']);
    assert.equal(notices.length, 1);
    assert.match(
      notices[0] ?? '',
      /^notice: could not report the status "pending" to GitHub \(org\/app@aaaaaaaaaaaa\): unreachable$/,
    );
    assert.match(forges.get('e1')?.problem ?? '', /unreachable/);

    fail = false;
    reporter.observe(execution('success'));
    await reporter.idle();
    assert.equal(forges.get('e1')?.problem, null);
  });

  test('nothing is posted without a forge, a commit or a token', async () => {
    const tries: string[] = [];
    const poster: StatusPoster = { post: async (_t, _s, status) => void tries.push(status.state) };
    const { reporter } = harness(poster);
    reporter.observe(execution('pending', 'not-from-a-forge'));
    reporter.observe({ ...execution('pending'), commit_sha: null });
    await reporter.idle();
    const tokenless = harness(poster, null).reporter;
    tokenless.observe(execution('pending'));
    await tokenless.idle();
    assert.deepEqual(tries, []);
  });

  test('per-step statuses: only when the project enables them, each step in a context of its own', async () => {
    const posted: string[] = [];
    const poster: StatusPoster = {
      async post(_target, _sha, status) {
        posted.push(`${status.context} ${status.state} ${status.description}`);
      },
    };
    const step = (name: string, status: StepRecord['status'], reason: string | null) =>
      ({ name, status, reason }) as StepRecord;
    const off = harness(poster).reporter;
    off.observeStep({ execution: execution('running'), step: step('build', 'success', null) });
    await off.idle();
    assert.deepEqual(posted, []);

    const { reporter } = harness(poster, 'secret', true);
    reporter.observe(execution('running'));
    reporter.observeStep({ execution: execution('running'), step: step('build', 'success', null) });
    reporter.observeStep({ execution: execution('running'), step: step('test', 'failure', 'exit code 2') });
    await reporter.idle();
    reporter.observe(execution('failure'));
    await reporter.idle();
    // A step's status does not make the execution's `pending` give way: every context ends posted.
    assert.deepEqual(posted.sort(), [
      'gbcms/app failure failed',
      'gbcms/app pending running',
      'gbcms/app/build success passed',
      'gbcms/app/test failure failed: exit code 2',
    ]);
  });

  test('close() cuts off the post in flight and its retries, and records no problem', async () => {
    const tries: string[] = [];
    let aborted: Promise<void> | undefined;
    const poster: StatusPoster = {
      post(_target, _sha, status, _token, signal) {
        tries.push(status.state);
        // A forge that never answers: only the reporter's signal ends the post.
        aborted = new Promise((resolve) => signal?.addEventListener('abort', () => resolve()));
        return aborted.then(() => {
          throw new ForgePostError('aborted');
        });
      },
    };
    const { reporter, forges, notices } = harness(poster);
    reporter.observe(execution('success'));
    await pollUntil('the post to start', () => tries.length > 0, 1);
    reporter.close();
    await reporter.idle();
    reporter.observe(execution('success'));
    await reporter.idle();
    assert.deepEqual(tries, ['success']);
    assert.deepEqual(notices, []);
    assert.equal(forges.get('e1')?.problem, null);
  });
});
