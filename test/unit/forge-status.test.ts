import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commitStatus, MAX_DESCRIPTION, statusContext } from '../../server/forges/commit-status.ts';
import { fixtureValidator, githubStatusValidator } from '../helpers/forge-api.ts';

const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const PAGE = 'https://ci.example.com/executions/abc';

describe('commit statuses per forge', () => {
  test('GitHub has no running or cancelled state: both say so in the description', () => {
    const of = (status: 'pending' | 'running' | 'success' | 'failure' | 'error' | 'killed', reason = null) =>
      commitStatus('github', { status, reason, context: 'gbcms/app', targetUrl: PAGE });
    assert.deepEqual(of('pending'), {
      state: 'pending',
      description: 'queued',
      context: 'gbcms/app',
      targetUrl: PAGE,
    });
    assert.deepEqual([of('running').state, of('running').description], ['pending', 'running']);
    assert.equal(of('success').state, 'success');
    assert.equal(of('failure').state, 'failure');
    assert.equal(of('error').state, 'error');
    const killed = commitStatus('github', {
      status: 'killed',
      reason: 'terminated by user',
      context: 'gbcms/app',
      targetUrl: PAGE,
    });
    assert.deepEqual([killed.state, killed.description], ['error', 'cancelled: terminated by user']);
  });

  test('Gitea and GitLab use their own states', () => {
    const state = (forge: 'gitea' | 'gitlab', status: 'running' | 'failure' | 'error' | 'killed') =>
      commitStatus(forge, { status, reason: null, context: 'c', targetUrl: PAGE }).state;
    assert.deepEqual(
      ['running', 'failure', 'error', 'killed'].map((s) => state('gitea', s as 'running')),
      ['pending', 'failure', 'error', 'error'],
    );
    assert.deepEqual(
      ['running', 'failure', 'error', 'killed'].map((s) => state('gitlab', s as 'running')),
      ['running', 'failed', 'failed', 'canceled'],
    );
  });

  test('descriptions stay within 140 characters; no link without a public URL', () => {
    const long = commitStatus('github', { status: 'error', reason: 'x'.repeat(500), context: 'c' });
    assert.equal([...long.description].length, MAX_DESCRIPTION);
    assert.equal('targetUrl' in long, false);
    assert.equal(statusContext('my-app'), 'gbcms/my-app');
  });
});

describe('the request validators', () => {
  const github = githubStatusValidator();
  const path = `/repos/octo-org/octo-repo/statuses/${SHA}`;

  test("GitHub's description accepts a status as gbcms sends it", () => {
    const body = { state: 'pending', target_url: PAGE, description: 'queued', context: 'gbcms/app' };
    assert.deepEqual(github({ method: 'POST', url: path, body }), []);
  });

  test('and refuses a missing, misnamed or mistyped field, a wrong state, method or path', () => {
    const problems = (body: unknown, method = 'POST', url = path) => github({ method, url, body });
    assert.match(problems({ description: 'no state' }).join('\n'), /must have required property 'state'/);
    assert.match(
      problems({ state: 'success', targetUrl: PAGE }).join('\n'),
      /must NOT have additional properties.*targetUrl/,
    );
    assert.match(problems({ state: 'running' }).join('\n'), /must be equal to one of the allowed values/);
    assert.match(problems({ state: 'success', context: 7 }).join('\n'), /context must be string/);
    assert.match(problems({ state: 'success' }, 'PUT').join('\n'), /method PUT/);
    assert.match(
      problems({ state: 'success' }, 'POST', `/repos/octo-org/statuses/${SHA}`).join('\n'),
      /path/,
    );
  });

  test('the Gitea and GitLab fixtures refuse what their docs do not list', () => {
    const gitea = fixtureValidator('gitea-status.json');
    const gitlab = fixtureValidator('gitlab-status.json');
    const giteaPath = `/api/v1/repos/org/app/statuses/${SHA}`;
    const gitlabPath = `/api/v4/projects/42/statuses/${SHA}`;
    assert.deepEqual(gitea({ method: 'POST', url: giteaPath, body: { state: 'warning', context: 'c' } }), []);
    assert.notDeepEqual(gitea({ method: 'POST', url: giteaPath, body: { state: 'running' } }), []);
    assert.deepEqual(gitlab({ method: 'POST', url: gitlabPath, body: { state: 'running', name: 'c' } }), []);
    assert.notDeepEqual(gitlab({ method: 'POST', url: gitlabPath, body: { state: 'failure' } }), []);
    assert.notDeepEqual(gitlab({ method: 'POST', url: gitlabPath, body: { status: 'failed' } }), []);
  });
});
