// Log search end to end: the real execution manager (fake backend) runs a step that prints a
// secret among other lines; the recorder indexes the masked lines; the API and the page find a
// line, mark the match and link to it; a stranger finds nothing in the private project; the
// secret's value is never found; and once the retention sweep removed the execution, neither
// is anything else of it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeOldExecutions } from '../../server/executions/retention.ts';
import { SecretVault } from '../../server/secrets/vault.ts';
import type { Execution, Project } from '../../server/store/index.ts';
import { collectEvents } from './helpers/collect-events.ts';
import { type ExternalServer, startExternalServer } from './helpers/external-server.ts';
import { writePipeline } from './helpers/fake-managers.ts';

const SECRET = 'hunter2-swordfish-7731';

const PIPELINE = `version: 1
name: search-demo
steps:
  build:
    image: busybox:stable
    commands: [make]
    secrets: [DEPLOY_KEY]
    env:
      STEP_OUTPUT: "compiling 12 modules\\nnpm ERR! code ELIFECYCLE in <widget> & co\\nusing key ${SECRET}\\ndone with 12 modules\\n"
`;

interface SearchAnswer {
  items: Array<{
    execution_id: string;
    execution_number: number;
    step: string;
    line: number;
    text: string;
    highlights: Array<[number, number]>;
    url: string;
  }>;
  next_cursor: string | null;
}

describe('log search', () => {
  let server: ExternalServer;
  let project: Project;
  let execution: Execution;
  let source: string;
  let vault: SecretVault | undefined;
  const key = randomBytes(32);

  before(async () => {
    server = await startExternalServer({
      // The vault needs the store the server opens: it stands in until then.
      secrets: { forRun: (...args) => (vault as SecretVault).forRun(...args) },
    });
    vault = new SecretVault(server.store.secrets, async () => key);
    source = await writePipeline(await mkdtemp(join(tmpdir(), 'gbcms-search-src-')), PIPELINE);
    project = await server.store.projects.create({
      name: 'private-search',
      repo: source,
      visibility: 'private',
      owner_id: server.users.owner.id,
    });
    await vault.set(
      { kind: 'project', projectId: project.id },
      { name: 'DEPLOY_KEY', value: SECRET, limits: { events: null, branches: null }, by: 'admin' },
    );
    execution = await server.manager.start({
      project,
      trigger: { event: 'manual', branch: 'main' },
      source: { kind: 'project' },
    });
    const events = await collectEvents(server.manager, execution.id);
    assert.equal(events.at(-1)?.type, 'end');
  });
  after(async () => {
    await server?.close();
    if (source) await rm(source, { recursive: true, force: true });
  });

  const search = (who: Parameters<ExternalServer['api']>[0], query: string) =>
    server.api<SearchAnswer>(who, 'GET', `/api/projects/${project.id}/logs/search?${query}`);

  test('the API finds a line of a finished execution, marks the match and links to the line', async () => {
    const answer = await search('owner', 'q=npm+err');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.items.length, 1);
    const [hit] = answer.body.items;
    assert.ok(hit);
    assert.equal(hit.execution_id, execution.id);
    assert.equal(hit.execution_number, execution.number);
    assert.equal(hit.step, 'build');
    assert.equal(hit.line, 2);
    assert.equal(hit.text, 'npm ERR! code ELIFECYCLE in <widget> & co');
    assert.deepEqual(hit.highlights, [
      [0, 3],
      [4, 7],
    ]);
    assert.equal(hit.url, `/executions/${execution.id}#build-2`);
    assert.equal(answer.body.next_cursor, null);

    // One execution's lines, and a phrase.
    const one = await search('admin', `q=${encodeURIComponent('"compiling 12"')}&execution=${execution.id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(
      one.body.items.map((item) => [item.line, item.highlights]),
      [[1, [[0, 12]]]],
    );
  });

  test('the page lists the match, marked and escaped, linking to its line', async () => {
    const page = await server.app.inject({
      method: 'GET',
      url: `/projects/${project.id}/search?q=elifecycle+widget`,
      headers: { authorization: `Bearer ${server.tokens.owner}` },
    });
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      new RegExp(`<a href="/executions/${execution.id}#build-2">#${execution.number} · build · line 2</a>`),
    );
    assert.match(
      page.body,
      /npm ERR! code <mark>ELIFECYCLE<\/mark> in &lt;<mark>widget<\/mark>&gt; &amp; co/,
    );
    const none = await server.app.inject({
      method: 'GET',
      url: `/projects/${project.id}/search?q=nothing+like+this`,
      headers: { authorization: `Bearer ${server.tokens.owner}` },
    });
    assert.match(none.body, /id="search-empty"/);
  });

  test('a stranger finds nothing in a private project: it does not exist for them', async () => {
    for (const who of ['anonymous', 'stranger'] as const) {
      const answer = await search(who, 'q=npm');
      assert.equal(answer.status, 404, who);
      assert.doesNotMatch(JSON.stringify(answer.body), /npm ERR/);
      const page = await server.api(who, 'GET', `/projects/${project.id}/search?q=npm`);
      assert.equal(page.status, 404, who);
      assert.doesNotMatch(String(page.body), /npm ERR/);
    }
    // Nor through another project's search with this execution's id.
    const other = await server.api(
      'stranger',
      'GET',
      `/api/projects/${server.publicProject.id}/logs/search?q=npm&execution=${execution.id}`,
    );
    assert.equal(other.status, 404);
  });

  test("a secret's value is never found: lines are indexed masked", async () => {
    const byValue = await search('owner', `q=${SECRET}`);
    assert.equal(byValue.status, 200);
    assert.deepEqual(byValue.body.items, []);
    const line = await search('owner', 'q=using+key');
    assert.equal(line.body.items.length, 1);
    assert.doesNotMatch(line.body.items[0]?.text ?? '', /hunter2|swordfish/);
  });

  test('bad queries are clear 400s, never 500s', async () => {
    const cases: Array<[string, RegExp]> = [
      ['q=', /type something/],
      ['q=%20%20', /type something/],
      [`q=${'a'.repeat(201)}`, /at most 200 characters/],
      ['q=%22%2A%28%29%3A%5E', /no letters or digits/],
      ['q=a+b+c+d+e+f+g+h+i+j+k', /at most 10 words/],
      ['q=npm&cursor=zzz', /cursor/],
    ];
    for (const [query, message] of cases) {
      const answer = await search('owner', query);
      assert.equal(answer.status, 400, query);
      assert.match(JSON.stringify(answer.body), message, query);
    }
    // FTS5 syntax typed by a user is searched as words.
    for (const q of ['npm AND OR NOT', 'NEAR(npm err)', 'err*', 'code: "npm', '-npm ^err']) {
      const answer = await search('owner', `q=${encodeURIComponent(q)}`);
      assert.equal(answer.status, 200, q);
    }
  });

  test('pages of matches follow the cursor, newest first', async () => {
    const first = await search('owner', 'q=modules&limit=1');
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.items.map((item) => item.text),
      ['done with 12 modules'],
    );
    assert.ok(first.body.next_cursor);
    const second = await search('owner', `q=modules&limit=1&cursor=${first.body.next_cursor}`);
    assert.deepEqual(
      second.body.items.map((item) => item.text),
      ['compiling 12 modules'],
    );
    assert.equal(second.body.next_cursor, null);
    // Every word is required: "OR" is a word here, not an operator, and no line holds it.
    const or = await search('owner', 'q=done+OR+compiling');
    assert.deepEqual(or.body.items, []);
  });

  test('once the retention sweep removed the execution, its lines are gone', async () => {
    const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const removed = await removeOldExecutions(
      server.store,
      server.dataDir,
      new Date(Date.parse(execution.created_at) + 1),
      logger,
    );
    assert.equal(removed, 1);
    const answer = await search('owner', 'q=npm+err');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.items, []);
  });
});
