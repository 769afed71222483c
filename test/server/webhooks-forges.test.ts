// The Gitea/Forgejo and GitLab interpreters, on payloads written from each forge's docs
// (test/fixtures/webhooks/README.md).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { giteaRepository, interpretGiteaEvent } from '../../server/webhooks/gitea.ts';
import { gitlabProject, interpretGitlabEvent } from '../../server/webhooks/gitlab.ts';
import { verifyHexSignature, verifySecretToken } from '../../server/webhooks/signature.ts';

type Json = Record<string, unknown>;
function fixture(path: string): Json {
  return JSON.parse(readFileSync(new URL(`../fixtures/webhooks/${path}`, import.meta.url), 'utf8')) as Json;
}

describe('Gitea and Forgejo deliveries', () => {
  test('a push starts its branch at `after`, with the changed files', () => {
    const push = fixture('gitea/push.json');
    assert.deepEqual(interpretGiteaEvent('push', push), {
      kind: 'trigger',
      trigger: {
        event: 'push',
        branch: 'develop',
        commit: 'bffeb74224043ba2feb48d137756c8a9331c449a',
        author: 'Gitea',
        message: 'Webhooks Yay!',
        changedPaths: ['docs/webhooks.md', 'README.md'],
        cloneUrl: 'http://localhost:3000/gitea/webhooks.git',
      },
    });
    assert.equal(giteaRepository(push), 'gitea/webhooks');
  });

  test('a cut commit list, a tag, a deletion and other events', () => {
    const cut = { ...fixture('gitea/push.json'), total_commits: 40 };
    const decision = interpretGiteaEvent('push', cut);
    assert.equal(decision.kind === 'trigger' && decision.trigger.changedPaths, undefined);
    const tag = interpretGiteaEvent('push', { ...fixture('gitea/push.json'), ref: 'refs/tags/v1' });
    assert.equal(tag.kind === 'trigger' && tag.trigger.tag, 'v1');
    const deleted = interpretGiteaEvent('push', { ...fixture('gitea/push.json'), after: '0'.repeat(40) });
    assert.equal(deleted.kind, 'ignore');
    assert.equal(interpretGiteaEvent('issues', {}).kind, 'ignore');
    assert.equal(interpretGiteaEvent('push', 'nonsense').kind, 'ignore');
  });

  test('pull requests: synchronized starts the head; a head in another repository is a fork', () => {
    const pr = fixture('gitea/pull_request.json');
    const same = interpretGiteaEvent('pull_request', pr);
    assert.equal(same.kind, 'trigger');
    assert.ok(same.kind === 'trigger');
    assert.deepEqual(
      { ...same.trigger },
      {
        event: 'pull_request',
        branch: 'faster',
        commit: '4a0b79f0d1b6b1e2c7ad4f9e0c19f1c9d2b3a4e5',
        author: 'contributor',
        message: 'Faster webhooks',
        cloneUrl: 'http://localhost:3000/gitea/webhooks.git',
        prNumber: 7,
      },
    );
    const forked = structuredClone(pr) as { pull_request: { head: { repo: Json } } };
    forked.pull_request.head.repo = {
      full_name: 'contributor/webhooks',
      clone_url: 'https://x.example/c/w.git',
    };
    const fork = interpretGiteaEvent('pull_request', forked);
    assert.equal(fork.kind === 'trigger' && fork.trigger.fork, true);
    assert.equal(interpretGiteaEvent('pull_request', { ...pr, action: 'closed' }).kind, 'ignore');
  });
});

describe('GitLab deliveries', () => {
  test('a push starts its branch at `after`, authored by the head commit, with changed files', () => {
    const push = fixture('gitlab/push.json');
    assert.deepEqual(interpretGitlabEvent('Push Hook', push), {
      kind: 'trigger',
      trigger: {
        event: 'push',
        branch: 'master',
        commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        author: 'GitLab dev user',
        message: 'fixed readme',
        changedPaths: ['CHANGELOG', 'app/controller/application.rb'],
        cloneUrl: 'http://example.com/mike/diaspora.git',
      },
    });
    assert.equal(gitlabProject(push), '15');
  });

  test('tag pushes, deletions, cut commit lists and other events', () => {
    const tag = interpretGitlabEvent('Tag Push Hook', fixture('gitlab/tag_push.json'));
    assert.ok(tag.kind === 'trigger');
    assert.equal(tag.trigger.tag, 'v1.0.0');
    assert.equal(tag.trigger.changedPaths, undefined);
    const push = fixture('gitlab/push.json');
    const cut = interpretGitlabEvent('Push Hook', { ...push, total_commits_count: 25 });
    assert.equal(cut.kind === 'trigger' && cut.trigger.changedPaths, undefined);
    assert.equal(interpretGitlabEvent('Push Hook', { ...push, after: '0'.repeat(40) }).kind, 'ignore');
    assert.equal(interpretGitlabEvent('Issue Hook', {}).kind, 'ignore');
    assert.equal(interpretGitlabEvent('Push Hook', []).kind, 'ignore');
  });

  test('merge requests: open, reopen and updates with new commits; a source project of its own is a fork', () => {
    const mr = fixture('gitlab/merge_request.json');
    const opened = interpretGitlabEvent('Merge Request Hook', mr);
    assert.ok(opened.kind === 'trigger');
    assert.deepEqual(
      { ...opened.trigger },
      {
        event: 'pull_request',
        branch: 'ms-viewport',
        commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        author: 'root',
        message: 'MS-Viewport',
        cloneUrl: 'http://example.com/awesome_space/awesome_project.git',
        prNumber: 1,
        fork: true,
      },
    );
    assert.equal(gitlabProject(mr), '1');
    const attrs = mr.object_attributes as Json;
    const withAction = (extra: Json) => ({ ...mr, object_attributes: { ...attrs, ...extra } });
    assert.equal(interpretGitlabEvent('Merge Request Hook', withAction({ action: 'update' })).kind, 'ignore');
    const update = interpretGitlabEvent(
      'Merge Request Hook',
      withAction({ action: 'update', oldrev: 'a'.repeat(40) }),
    );
    assert.equal(update.kind, 'trigger');
    const same = interpretGitlabEvent('Merge Request Hook', withAction({ source_project_id: 1 }));
    assert.equal(same.kind === 'trigger' && same.trigger.fork, undefined);
    assert.equal(interpretGitlabEvent('Merge Request Hook', withAction({ action: 'merge' })).kind, 'ignore');
  });
});

describe('Gitea signatures and GitLab tokens', () => {
  const body = Buffer.from('{"a":1}');
  test('a hex HMAC of the raw body with the secret', async () => {
    const { createHmac } = await import('node:crypto');
    const good = createHmac('sha256', 's3cret').update(body).digest('hex');
    assert.equal(verifyHexSignature('s3cret', body, good), true);
    assert.equal(verifyHexSignature('other', body, good), false);
    assert.equal(verifyHexSignature('s3cret', body, `sha256=${good}`), false);
    assert.equal(verifyHexSignature('s3cret', body, good.toUpperCase()), false);
    assert.equal(verifyHexSignature('s3cret', body, undefined), false);
    assert.equal(verifyHexSignature('s3cret', Buffer.alloc(0), good), false);
  });
  test('the token is the secret itself', () => {
    assert.equal(verifySecretToken('s3cret', 's3cret'), true);
    assert.equal(verifySecretToken('s3cret', 's3cret '), false);
    assert.equal(verifySecretToken('s3cret', ['s3cret', 's3cret']), false);
    assert.equal(verifySecretToken('s3cret', ''), false);
    assert.throws(() => verifySecretToken('', 'x'));
  });
});
