import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ansiToHtml } from '../../server/pages/ansi.ts';
import { escapeHtml, html, trustedHtml } from '../../server/pages/html.ts';
import { badgeMarkdown } from '../../server/pages/project-page.ts';
import { safeNext } from '../../server/routes/pages/session.ts';
import type { Project } from '../../server/store/index.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const XSS = '<script>alert(1)</script>';
const ATTR_XSS = '"><img src=x onerror=alert(1)>';

describe('html template', () => {
  test('escapes every interpolated value unless it is SafeHtml', () => {
    const name = `${XSS}&'"\``;
    const out = html`<p title="${name}">${name}</p>`.value;
    assert.equal(
      out,
      '<p title="&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;&quot;&#96;">&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;&quot;&#96;</p>',
    );
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(html`<div>${inner}</div>`.value, '<div><b>&lt;i&gt;</b></div>');
    assert.equal(html`${[1, '<', inner]}`.value, '1&lt;<b>&lt;i&gt;</b>');
    assert.equal(html`[${null}${undefined}${false}${0}]`.value, '[0]');
    assert.equal(html`${trustedHtml('<br>')}`.value, '<br>');
    assert.equal(escapeHtml('a&b'), 'a&amp;b');
  });

  test('ANSI colours become spans; the text stays escaped', () => {
    assert.equal(
      ansiToHtml('\u001b[31m<b>x</b>\u001b[0m').value,
      '<span style="color:#ff7b72">&lt;b&gt;x&lt;/b&gt;</span>',
    );
    assert.equal(ansiToHtml(`plain ${XSS}`).value, 'plain &lt;script&gt;alert(1)&lt;/script&gt;');
    assert.doesNotMatch(ansiToHtml('\u001b[38;2;1;2;3m"onmouseover=x').value, /"onmouseover/);
  });

  test('a colour a line leaves open is closed with it and does not reach the next line', () => {
    assert.equal(ansiToHtml('\u001b[1;32mgreen').value, '<b><span style="color:#3fb950">green</span></b>');
    assert.equal(ansiToHtml('plain').value, 'plain');
    assert.equal(ansiToHtml('\u001b[31mred').value, '<span style="color:#ff7b72">red</span>');
  });

  test('lines with nothing to convert come back as they are, every other character is escaped', () => {
    const every = Array.from({ length: 0x80 }, (_, code) => String.fromCharCode(code)).join('');
    assert.equal(
      ansiToHtml(every.slice(0x20, 0x7f)).value,
      ' !&quot;#$%&amp;&apos;()*+,-./0123456789:;&lt;=&gt;?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~',
    );
    assert.equal(
      ansiToHtml('\tcompiling src/a.ts (42 ms) [ok] #3 {x: 1}').value,
      '\tcompiling src/a.ts (42 ms) [ok] #3 {x: 1}',
    );
    assert.equal(ansiToHtml('café €').value, 'caf&#xE9; &#x20AC;');
    assert.equal(ansiToHtml('a\rb').value, 'a\rb');
  });

  test('badge markdown and redirect targets', () => {
    const project = { id: 'abc', default_branch: 'feat/x' } as Pick<Project, 'id' | 'default_branch'>;
    assert.equal(
      badgeMarkdown('https://ci.example.com', project),
      '[![build](https://ci.example.com/badges/abc.svg?branch=feat%2Fx)](https://ci.example.com/projects/abc)',
    );
    assert.equal(safeNext('/projects/a'), '/projects/a');
    for (const bad of [
      '//evil.example',
      '/\\evil.example',
      'https://evil.example',
      'javascript:alert(1)',
      undefined,
      '/a\nb',
    ]) {
      assert.equal(safeNext(bad), '/', String(bad));
    }
  });
});

let server: TestServer;
let evil: Project;
let runningId: string;
let endedId: string;
let privateId: string;

before(async () => {
  server = await startTestServer();
  evil = await server.store.projects.create({
    name: XSS,
    description: ATTR_XSS,
    repo: '/srv/git/evil.git',
    default_branch: 'main',
    visibility: 'public',
    owner_id: server.users.owner.id,
  });
  const fake = server.executions;
  const start = async (project: Project, message?: string) =>
    (
      await fake.start({
        project,
        trigger: {
          event: 'push',
          branch: `br-${XSS}`.replace(/[<>() ]/g, ''),
          commit: 'c0ffee'.padEnd(40, '0'),
          author: ATTR_XSS,
        },
        source: { kind: 'project' },
        ...(message ? { message } : {}),
      })
    ).id;
  runningId = await start(evil, XSS);
  await fake.begin(runningId);
  await fake.step(runningId, `step ${ATTR_XSS}`, 'running');
  await fake.log(runningId, `step ${ATTR_XSS}`, `\u001b[32mok\u001b[0m ${XSS}`);
  await fake.artifact(runningId, `step ${ATTR_XSS}`, 'out/<b>.txt', 'x');

  endedId = await start(server.publicProject);
  await fake.play(endedId, { step: 'build', lines: ['done'] });
  privateId = await start(server.privateProject);
});
after(() => server.close());

function page(url: string, cookieFor?: 'owner' | 'member' | 'stranger' | 'admin') {
  return server.app.inject({
    method: 'GET',
    url,
    headers: cookieFor ? { cookie: `gbcms_token=${server.tokens[cookieFor]}` } : {},
  });
}

function assertNoRawXss(body: string) {
  assert.ok(!body.includes(XSS), 'raw <script> in the page');
  assert.ok(!body.includes('<img src=x'), 'raw <img> in the page');
}

describe('pages escape user-controlled text', () => {
  test('/ lists the project with its name escaped', async () => {
    const response = await page('/');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.ok(response.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assertNoRawXss(response.body);
    assert.match(String(response.headers['content-security-policy']), /script-src 'self'/);
  });

  test('/projects/:id escapes name, description and the title', async () => {
    const response = await page(`/projects/${evil.id}`);
    assert.equal(response.statusCode, 200);
    assert.ok(response.body.includes('<title>&lt;script&gt;alert(1)&lt;/script&gt; · gbcms</title>'));
    assertNoRawXss(response.body);
    assert.ok(response.body.includes(`href="/executions/${runningId}"`));
  });

  test('/executions/:id escapes step names, messages, authors, log lines and artifact paths', async () => {
    const response = await page(`/executions/${runningId}`);
    assert.equal(response.statusCode, 200);
    assertNoRawXss(response.body);
    assert.ok(response.body.includes('data-step="step &quot;&gt;&lt;img src=x onerror=alert(1)&gt;"'));
    // The page fetches log lines by range: the API renders them, escaped, with their colours.
    const step = encodeURIComponent(`step ${ATTR_XSS}`);
    const lines = await page(`/api/executions/${runningId}/steps/${step}/log?from=1&limit=10`);
    assert.equal(lines.statusCode, 200);
    assert.deepEqual(
      lines.json().lines.map((line: { html: string }) => line.html),
      ['<span style="color:#3fb950">ok</span> &lt;script&gt;alert(1)&lt;/script&gt;'],
    );
    assert.ok(response.body.includes('out/&lt;b&gt;.txt'));
    assert.ok(response.body.includes(`href="/api/executions/${runningId}/artifacts/out/%3Cb%3E.txt"`));
  });
});

describe('execution page', () => {
  test('a running execution: live script, events URL, steps, logs; buttons only for writers', async () => {
    const anonymous = await page(`/executions/${runningId}`);
    assert.ok(anonymous.body.includes('<script src="/assets/execution.js" defer></script>'));
    assert.ok(anonymous.body.includes(`data-events="/api/executions/${runningId}/events"`));
    assert.ok(anonymous.body.includes(`data-lines="/api/executions/${runningId}/steps/"`));
    assert.ok(anonymous.body.includes('class="status status-running"'));
    assert.ok(!anonymous.body.includes('terminate-form'), 'no buttons for anonymous visitors');
    const stranger = await page(`/executions/${runningId}`, 'stranger');
    assert.ok(!stranger.body.includes('terminate-form'), 'no buttons for non-members');
    const owner = await page(`/executions/${runningId}`, 'owner');
    assert.ok(owner.body.includes(`action="/executions/${runningId}/terminate"`));
    assert.ok(owner.body.includes(`action="/executions/${runningId}/rerun"`));
  });

  test('an ended execution: no chart scripts, terminate hidden, the step selected with its status', async () => {
    const response = await page(`/executions/${endedId}`, 'owner');
    assert.ok(!response.body.includes('reports.js'));
    assert.match(response.body, /id="terminate-form" hidden/);
    assert.match(
      response.body,
      /<li data-step="build" data-status="success">\s*<a class="step-link" href="#build">\s*<span class="step-status"><span class="status status-success">success<\/span><\/span>/,
    );
    assert.match(response.body, /<section id="log-panel" class="step-log log-panel" data-step="build"/);
    const lines = await page(`/api/executions/${endedId}/steps/build/log`);
    assert.deepEqual(lines.json(), {
      step: 'build',
      total: 1,
      commands: [],
      lines: [{ seq: 1, time: lines.json().lines[0].time, stream: 'stdout', html: 'done' }],
    });
  });

  test('odd states say what they are: waiting for a runner, an invalid pipeline file, a failed step', async () => {
    const fake = server.executions;
    const request = {
      project: server.publicProject,
      trigger: { event: 'push', branch: 'main' },
      source: { kind: 'project' },
    } as const;
    const waiting = await fake.start(request);
    const waitingPage = (await page(`/executions/${waiting.id}`)).body;
    assert.match(
      waitingPage,
      /<p id="waiting" class="notice">Waiting for a free runner: this project runs at most 1 execution at a time/,
    );

    const invalid = await fake.start(request);
    await fake.finish(
      invalid.id,
      'error',
      [
        ".gbcms.yml:3:5: error GBCMS_LINT_SCHEMA: steps.build: must have 'image' or 'environment'",
        '.gbcms.yml:9:7: error GBCMS_LINT_REF: depends_on names no step "<b>"',
      ].join('\n'),
    );
    const invalidPage = (await page(`/executions/${invalid.id}`)).body;
    assert.ok(invalidPage.includes('<span id="reason">the pipeline file is not valid (2 errors)</span>'));
    assert.ok(
      invalidPage.includes(
        '<li class="diagnostic diagnostic-error"><code class="place">.gbcms.yml:3:5</code> <span class="code">GBCMS_LINT_SCHEMA</span> steps.build: must have &#39;image&#39; or &#39;environment&#39;</li>',
      ),
    );
    assert.ok(invalidPage.includes('depends_on names no step &quot;&lt;b&gt;&quot;'));

    const failed = await fake.start(request);
    await fake.begin(failed.id);
    await fake.step(failed.id, 'lint', 'running');
    await fake.step(failed.id, 'lint', 'failure', { reason: 'exit code 2' });
    await fake.step(failed.id, 'ship', 'skipped', { reason: "depends on 'lint', which ended with failure" });
    await fake.finish(failed.id, 'failure');
    const failedPage = (await page(`/executions/${failed.id}`)).body;
    assert.ok(failedPage.includes('<span id="reason">lint failed (exit code 2)</span>'));
    assert.ok(failedPage.includes('data-step="lint"'));
    assert.match(failedPage, /<section id="log-panel" class="step-log log-panel" data-step="lint"/);
    assert.ok(
      failedPage.includes(
        '<span class="step-reason">depends on &#39;lint&#39;, which ended with failure</span>',
      ),
    );
  });

  test('private pages are 404 to anonymous visitors and strangers, shown to members with the cookie', async () => {
    for (const url of [`/executions/${privateId}`, `/projects/${server.privateProject.id}`]) {
      const anonymous = await page(url);
      assert.equal(anonymous.statusCode, 404, url);
      assert.match(String(anonymous.headers['content-type']), /^text\/html/);
      assert.ok(!anonymous.body.includes('private-app'));
      assert.equal((await page(url, 'stranger')).statusCode, 404);
      const member = await page(url, 'member');
      assert.equal(member.statusCode, 200);
      assert.ok(member.body.includes('private-app'));
    }
    assert.ok(!(await page('/')).body.includes('private-app'));
    assert.ok((await page('/', 'member')).body.includes('private-app'));
  });

  test('the project page has the executions table and badge markdown', async () => {
    const response = await server.app.inject({
      method: 'GET',
      url: `/projects/${server.publicProject.id}`,
      headers: { host: 'ci.example.com' },
    });
    assert.ok(
      response.body.includes(
        `[![build](http://ci.example.com/badges/${server.publicProject.id}.svg?branch=main)`,
      ),
    );
    // The commit under what ran: short sha beside the author and the trigger.
    assert.match(response.body, /<code>c0ffee00<\/code> · /);
    assert.match(response.body, /status status-success/);
  });
});

describe('sign in and forms', () => {
  test('login sets an HttpOnly SameSite=Strict cookie; a bad token is refused; logout clears it', async () => {
    const form = await server.app.inject({ method: 'GET', url: '/login?next=/projects/x' });
    assert.equal(form.statusCode, 200);
    assert.ok(form.body.includes('name="next" value="/projects/x"'));
    const bad = await server.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'token=gbcms_nope&next=/',
    });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.headers['set-cookie'], undefined);
    const good = await server.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' },
      payload: `token=${encodeURIComponent(server.tokens.member)}&next=${encodeURIComponent('//evil.example')}`,
    });
    assert.equal(good.statusCode, 303);
    assert.equal(good.headers.location, '/');
    const cookie = String(good.headers['set-cookie']);
    assert.match(cookie, /^gbcms_token=gbcms_/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const out = await server.app.inject({ method: 'POST', url: '/logout' });
    assert.equal(out.statusCode, 303);
    assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
  });

  test('the cookie reads the API but never writes through it', async () => {
    const cookie = `gbcms_token=${server.tokens.member}`;
    const read = await server.app.inject({
      method: 'GET',
      url: `/api/executions/${privateId}`,
      headers: { cookie },
    });
    assert.equal(read.statusCode, 200);
    const write = await server.app.inject({
      method: 'POST',
      url: `/api/executions/${privateId}/terminate`,
      headers: { cookie },
    });
    assert.equal(write.statusCode, 401);
  });

  test('form buttons: same-origin posts with the cookie work; cross-site and anonymous posts do not', async () => {
    const fake = server.executions;
    const id = (
      await fake.start({
        project: server.publicProject,
        trigger: { event: 'api', branch: 'main' },
        source: { kind: 'project' },
      })
    ).id;
    const post = (url: string, headers: Record<string, string>) =>
      server.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      });
    const cookie = `gbcms_token=${server.tokens.owner}`;

    assert.equal((await post(`/executions/${id}/terminate`, {})).statusCode, 401);
    assert.equal(
      (await post(`/executions/${id}/terminate`, { cookie, origin: 'https://evil.example' })).statusCode,
      403,
    );
    assert.equal(
      (await post(`/executions/${id}/terminate`, { cookie, 'sec-fetch-site': 'cross-site' })).statusCode,
      403,
    );
    const strangerOnPrivate = await post(`/executions/${privateId}/terminate`, {
      cookie: `gbcms_token=${server.tokens.stranger}`,
    });
    assert.equal(strangerOnPrivate.statusCode, 404);
    assert.equal((await server.store.executions.get(id))?.status, 'pending');

    const terminated = await post(`/executions/${id}/terminate`, {
      cookie,
      origin: 'http://localhost:80',
      'sec-fetch-site': 'same-origin',
    });
    assert.equal(terminated.statusCode, 303);
    assert.equal(terminated.headers.location, `/executions/${id}`);
    assert.equal((await server.store.executions.get(id))?.status, 'killed');
    assert.equal((await post(`/executions/${id}/terminate`, { cookie })).statusCode, 409);

    const rerun = await post(`/executions/${id}/rerun`, { cookie });
    assert.equal(rerun.statusCode, 303);
    const newId = String(rerun.headers.location).split('/').pop() ?? '';
    assert.equal((await server.store.executions.get(newId))?.rerun_of, id);

    const run = await post(`/projects/${server.publicProject.id}/run`, { cookie });
    assert.equal(run.statusCode, 303);
    assert.match(String(run.headers.location), /^\/executions\//);
  });

  test('static assets are served; nothing outside their folder', async () => {
    const script = await server.app.inject({ method: 'GET', url: '/assets/execution.js' });
    assert.equal(script.statusCode, 200);
    assert.match(String(script.headers['content-type']), /javascript/);
    const css = await server.app.inject({ method: 'GET', url: '/assets/app.css' });
    assert.equal(css.statusCode, 200);
    for (const url of ['/assets/../html.ts', '/assets/..%2fhtml.ts', '/assets/%2e%2e/html.ts']) {
      const response = await server.app.inject({ method: 'GET', url });
      assert.notEqual(response.statusCode, 200, url);
      assert.ok(!response.body.includes('escapes by default'), url);
    }
  });
});
