// Reports on the pages as the server renders them: progress bars, chart frames, test results,
// annotations, report lines in logs, the session link and the session page; every reported
// text escaped, whatever a reporter sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Report, TestsReport } from '../../engine/reports/types.ts';
import { html } from '../../server/pages/html.ts';
import {
  chartKey,
  chartTitle,
  NO_REPORTS,
  reportsSection,
  testsByStep,
} from '../../server/pages/reports-view.ts';
import type { Execution, Session } from '../../server/store/index.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const XSS = '<script>alert(1)</script>';
const ATTR_XSS = '"><img src=x onerror=alert(1)>';
const TIME = '2026-01-02T03:04:05.000Z';

function assertNoRawXss(body: string) {
  assert.ok(!body.includes(XSS), 'raw <script> in the page');
  assert.ok(!body.includes('<img src=x'), 'raw <img> in the page');
}

const failingTests: TestsReport = {
  type: 'tests',
  time: TIME,
  tests: 10,
  failures: 2,
  errors: 1,
  skipped: 3,
  duration_ms: 1500,
  failed: [
    { suite: `suite ${XSS}`, name: `adds ${ATTR_XSS}`, classname: 'MathTest', message: `expected ${XSS}` },
    { suite: 's', name: 'reads a file', classname: 'IoTest', message: 'ENOENT', output: `stack ${XSS}` },
    { suite: 's', name: 'times out', classname: 'IoTest', message: 'timeout' },
  ],
};

describe('report view parts', () => {
  test('metrics that share a prefix before the last / or . share a chart', () => {
    assert.equal(chartKey('loss/train'), 'loss');
    assert.equal(chartKey('loss/val'), 'loss');
    assert.equal(chartKey('eval.top1'), 'eval');
    assert.equal(chartKey('model/layer.3/grad'), 'model/layer.3');
    assert.equal(chartKey('lr'), 'lr');
    assert.equal(chartKey('/abs'), '/abs');
    assert.equal(chartTitle('loss', new Set(['loss/train', 'loss/val'])), 'loss');
    assert.equal(chartTitle('eval', new Set(['eval.top1'])), 'eval.top1');
  });

  test("a step's test reports add up; passed is what is neither failed, errored nor skipped", () => {
    const [total, ...rest] = testsByStep([
      { step: 'test', report: failingTests },
      { step: 'test', report: { ...failingTests, tests: 5, failures: 0, errors: 0, skipped: 0, failed: [] } },
    ]);
    assert.deepEqual(rest, []);
    assert.equal(total?.tests, 15);
    assert.equal(total?.passed, 9);
    assert.equal(total?.failures, 2);
    assert.equal(total?.skipped, 3);
    assert.equal(total?.duration_ms, 3000);
    assert.equal(total?.failed.length, 3);
  });

  test('an empty overview renders hidden blocks and no reports URL when the server has no API', () => {
    const out = reportsSection(NO_REPORTS, {}).value;
    assert.ok(out.startsWith('<section id="reports">'));
    for (const block of ['progress', 'charts', 'tests', 'annotations']) {
      assert.match(out, new RegExp(`id="${block}-block" class="report-block" hidden`));
    }
    assert.ok(
      reportsSection(NO_REPORTS, { reports: '/api/executions/x/reports' }).value.includes(
        'data-reports="/api/executions/x/reports"',
      ),
    );
  });

  test('hostile metric names are escaped in chart captions and keys', () => {
    const out = html`${reportsSection(
      {
        ...NO_REPORTS,
        metrics: [
          { step: 's', name: `${XSS}/a` },
          { step: 's', name: `${XSS}/b` },
          { step: 's', name: ATTR_XSS },
        ],
      },
      {},
    )}`.value;
    assertNoRawXss(out);
    assert.ok(out.includes('data-chart="&lt;script&gt;alert(1)&lt;/script&gt;"'));
    assert.ok(out.includes('<figcaption>&lt;script&gt;alert(1)&lt;/script&gt;</figcaption>'));
    assert.ok(out.includes('<figcaption>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</figcaption>'));
  });
});

let server: TestServer;
let runningId: string;
let endedId: string;
let quietId: string;
let session: Session;
let external: Execution;
let privateSession: Session;

before(async () => {
  server = await startTestServer();
  const fake = server.executions;
  const start = async () =>
    (
      await fake.start({
        project: server.publicProject,
        trigger: { event: 'push', branch: 'main' },
        source: { kind: 'project' },
      })
    ).id;

  runningId = await start();
  await fake.begin(runningId);
  await fake.step(runningId, 'train', 'running');
  await fake.log(runningId, 'train', 'epoch 1');
  await fake.log(
    runningId,
    'train',
    '::gbcms metric name=loss/train value=0.5 step=1',
    'stdout',
    false,
    true,
  );
  const metrics: Report[] = [];
  for (let i = 0; i < 5; i++) {
    metrics.push({ type: 'metric', time: TIME, name: 'loss/train', value: 1 / (i + 1), step: i });
    metrics.push({ type: 'metric', time: TIME, name: 'loss/val', value: 1.1 / (i + 1), step: i });
  }
  metrics.push({ type: 'metric', time: TIME, name: `evil ${XSS}`, value: 1 });
  await fake.reports(runningId, 'train', [
    ...metrics,
    { type: 'progress', time: TIME, done: 3, total: 10, message: 'old' },
    { type: 'progress', time: TIME, done: 45, total: 100, message: `epoch 3 ${XSS}` },
    {
      type: 'annotation',
      time: TIME,
      level: 'warning',
      file: `src/${ATTR_XSS}.ts`,
      line: 42,
      title: `Slow ${XSS}`,
    },
    { type: 'annotation', time: TIME, level: 'error', message: 'no file here' },
  ]);
  await fake.step(runningId, `test ${ATTR_XSS}`, 'running');
  await fake.reports(runningId, `test ${ATTR_XSS}`, [failingTests]);

  endedId = await start();
  await fake.begin(endedId);
  await fake.step(endedId, 'build', 'running');
  await fake.reports(endedId, 'build', [{ type: 'progress', time: TIME, done: 1, total: 1 }]);
  await fake.step(endedId, 'build', 'success');
  await fake.finish(endedId, 'success');

  quietId = await start();
  await fake.play(quietId, { step: 'build', lines: ['done'] });

  session = await server.store.sessions.create(server.publicProject.id, `sweep ${XSS}`);
  external = await server.store.executions.create({
    project_id: server.publicProject.id,
    trigger: { event: 'api' },
    external: { session_id: session.id, name: `lr=0.1 ${ATTR_XSS}`, heartbeat_timeout_s: 60 },
  });
  await server.store.reports.addBatch(external.id, 'external', [
    { type: 'metric', time: TIME, name: 'loss', value: 1, step: 0 },
    { type: 'metric', time: TIME, name: `acc ${XSS}`, value: 0.5, step: 0 },
  ]);
  const second = await server.store.executions.create({
    project_id: server.publicProject.id,
    trigger: { event: 'api' },
    external: { session_id: session.id, name: null, heartbeat_timeout_s: 60 },
  });
  await server.store.reports.addBatch(second.id, 'external', [
    { type: 'metric', time: TIME, name: 'loss', value: 2, step: 0 },
  ]);
  await server.store.executions.setEnded(second.id, 'success', null);

  privateSession = await server.store.sessions.create(server.privateProject.id, 'hidden');
});
after(() => server?.close());

function page(url: string, who?: 'owner' | 'member' | 'stranger') {
  return server.app.inject({
    method: 'GET',
    url,
    headers: who ? { cookie: `gbcms_token=${server.tokens[who]}` } : {},
  });
}

describe('execution page reports', () => {
  test('progress: the latest of each step, as a bar with done/total and the message', async () => {
    const { body, statusCode } = await page(`/executions/${runningId}`);
    assert.equal(statusCode, 200);
    assertNoRawXss(body);
    assert.match(body, /id="progress-block" class="report-block">/);
    assert.ok(body.includes('<progress max="100" value="45"></progress>'));
    assert.ok(body.includes('<span class="progress-count">45/100</span>'));
    assert.ok(
      body.includes('<span class="progress-message">epoch 3 &lt;script&gt;alert(1)&lt;/script&gt;</span>'),
    );
    assert.ok(!body.includes('>old<'), 'an older progress is not shown');
  });

  test('a chart frame per metric group; hostile names escaped', async () => {
    const { body } = await page(`/executions/${runningId}`);
    const frames = [
      ...body.matchAll(/<figure class="chart" data-chart="([^"]*)"><figcaption>([^<]*)<\/figcaption>/g),
    ];
    assert.deepEqual(
      frames.map((m) => [m[1], m[2]]),
      [
        // Keyed by what comes before its last '/', captioned by its whole name.
        ['evil &lt;script&gt;alert(1)&lt;', 'evil &lt;script&gt;alert(1)&lt;/script&gt;'],
        ['loss', 'loss'],
      ],
    );
    assert.ok(body.includes('<script src="/assets/vendor/uplot.js" defer></script>'));
    assert.ok(body.includes('<script src="/assets/charts.js" defer></script>'));
    assert.ok(body.includes('<script src="/assets/reports.js" defer></script>'));
    assert.ok(body.includes('<link rel="stylesheet" href="/assets/vendor/uplot.css">'));
  });

  test('test results: counts, then the failed tests with message and collapsible output', async () => {
    const { body } = await page(`/executions/${runningId}`);
    assert.ok(
      body.includes('<section class="tests" data-step="test &quot;&gt;&lt;img src=x onerror=alert(1)&gt;">'),
    );
    assert.ok(body.includes('<span class="status status-failure">3 failed</span>'));
    assert.match(
      body,
      /<td class="count-tests">10<\/td><td class="count-passed">4<\/td><td class="count-failures">2<\/td><td class="count-errors">1<\/td><td class="count-skipped">3<\/td><td>1\.5s<\/td>/,
    );
    const rows = [...body.matchAll(/<tr class="failed-test">[\s\S]*?<\/tr>/g)].map((m) => m[0]);
    assert.equal(rows.length, 3);
    assert.ok(
      rows[0]?.includes('<div class="test-name">adds &quot;&gt;&lt;img src=x onerror=alert(1)&gt;</div>'),
    );
    assert.ok(
      rows[0]?.includes('<div class="test-message">expected &lt;script&gt;alert(1)&lt;/script&gt;</div>'),
    );
    assert.ok(!rows[0]?.includes('<details>'), 'no output, nothing to expand');
    assert.ok(
      rows[1]?.includes(
        '<details><summary>Output</summary><pre class="test-output">stack &lt;script&gt;alert(1)&lt;/script&gt;</pre></details>',
      ),
    );
  });

  test('annotations: level, file:line, title; escaped', async () => {
    const { body } = await page(`/executions/${runningId}`);
    const items = [...body.matchAll(/<li class="annotation"[\s\S]*?<\/li>/g)].map((m) => m[0]);
    assert.equal(items.length, 2);
    assert.ok(items[0]?.includes('<span class="level level-warning">warning</span>'));
    assert.ok(
      items[0]?.includes('<code class="place">src/&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.ts:42</code>'),
    );
    assert.ok(
      items[0]?.includes(
        '<strong class="annotation-title">Slow &lt;script&gt;alert(1)&lt;/script&gt;</strong>',
      ),
    );
    assert.ok(items[1]?.includes('<span class="level level-error">error</span>'));
    assert.ok(!items[1]?.includes('class="place"'), 'no file, no place');
    assert.ok(items[1]?.includes('<span class="annotation-message">no file here</span>'));
  });

  test('report lines in the logs are marked (hidden unless the toggle is on); others unchanged', async () => {
    const { body } = await page(`/executions/${runningId}`);
    assert.ok(body.includes('<input type="checkbox" id="show-report-lines">'));
    const step = encodeURIComponent('train');
    const { lines } = (
      await page(`/api/executions/${runningId}/steps/${step}/log?from=1&limit=2`)
    ).json() as {
      lines: { seq: number; html: string; report?: boolean }[];
    };
    assert.deepEqual(
      lines.map(({ seq, html, report }) => ({ seq, html, report })),
      [
        { seq: 1, html: 'epoch 1', report: undefined },
        { seq: 2, html: '::gbcms metric name=loss/train value=0.5 step=1', report: true },
      ],
    );
  });

  test('the reports API and the CSV are linked only when the server has them', async () => {
    const { body } = await page(`/executions/${runningId}`);
    const api = `/api/executions/${runningId}`;
    const has = (url: string) => server.app.hasRoute({ method: 'GET', url });
    assert.equal(body.includes(`data-reports="${api}/reports"`), has('/api/executions/:id/reports'));
    assert.equal(
      body.includes(`<a class="small" href="${api}/metrics.csv" download>CSV</a>`),
      has('/api/executions/:id/metrics.csv'),
    );
  });

  test('an ended execution with reports loads the report scripts; one without, only the log view', async () => {
    const { body } = await page(`/executions/${endedId}`);
    assert.ok(body.includes('/assets/reports.js'));
    const quiet = await page(`/executions/${quietId}`);
    assert.ok(!quiet.body.includes('/assets/reports.js'), 'no reports, no charts to draw');
    assert.ok(quiet.body.includes('/assets/log-view.js'));
    assert.match(quiet.body, /id="charts-block" class="report-block" hidden/);
  });

  test('an external execution shows its name and links to its session', async () => {
    const { body } = await page(`/executions/${external.id}`);
    assertNoRawXss(body);
    assert.ok(
      body.includes(
        '<span class="execution-name">lr=0.1 &quot;&gt;&lt;img src=x onerror=alert(1)&gt;</span>',
      ),
    );
    assert.ok(
      body.includes(
        `<a id="session-link" href="/sessions/${session.id}">sweep &lt;script&gt;alert(1)&lt;/script&gt;</a>`,
      ),
    );
    assert.ok(!(await page(`/executions/${runningId}`)).body.includes('session-link'));
  });
});

describe('session page', () => {
  test('lists the executions and a chart frame per metric name; escaped', async () => {
    const { body, statusCode } = await page(`/sessions/${session.id}`);
    assert.equal(statusCode, 200);
    assertNoRawXss(body);
    assert.ok(
      body.includes('<title>sweep &lt;script&gt;alert(1)&lt;/script&gt; · public-app · gbcms</title>'),
    );
    const rows = [...body.matchAll(/<tr data-execution="([^"]+)" data-label="([^"]*)" data-status="(\w+)"/g)];
    assert.deepEqual(
      rows.map((m) => m[3]),
      ['running', 'success'],
    );
    assert.equal(rows[0]?.[1], external.id);
    assert.equal(rows[0]?.[2], `#${external.number} lr=0.1 &quot;&gt;&lt;img src=x onerror=alert(1)&gt;`);
    assert.ok(body.includes(`data-reports="/api/executions/${external.id}/reports"`));
    assert.ok(body.includes(`<a href="/executions/${external.id}">#${external.number}</a>`));
    const frames = [...body.matchAll(/<figure class="chart" data-chart="([^"]*)">/g)].map((m) => m[1]);
    assert.deepEqual(frames, ['acc &lt;script&gt;alert(1)&lt;/script&gt;', 'loss']);
    assert.match(body, /id="no-metrics" hidden/);
    assert.ok(body.includes('<script src="/assets/session.js" defer></script>'));
  });

  test('the project page lists its sessions', async () => {
    const { body } = await page(`/projects/${server.publicProject.id}`);
    assertNoRawXss(body);
    assert.match(
      body,
      new RegExp(
        `<td><a href="/sessions/${session.id}">sweep &lt;script&gt;alert\\(1\\)&lt;/script&gt;</a></td>\\s*<td>2</td>`,
      ),
    );
    const other = await page(`/projects/${server.privateProject.id}`, 'member');
    assert.ok(other.body.includes(`href="/sessions/${privateSession.id}"`));
    assert.ok(!other.body.includes(session.id));
  });

  test('a session of a private project is a 404 to strangers, shown to members; unknown is a 404', async () => {
    const url = `/sessions/${privateSession.id}`;
    assert.equal((await page(url)).statusCode, 404);
    assert.equal((await page(url, 'stranger')).statusCode, 404);
    const member = await page(url, 'member');
    assert.equal(member.statusCode, 200);
    assert.ok(member.body.includes('No executions yet.'));
    assert.ok(member.body.includes('id="no-metrics">No metrics reported yet.'));
    const unknown = await page('/sessions/nope');
    assert.equal(unknown.statusCode, 404);
    assert.match(String(unknown.headers['content-type']), /^text\/html/);
  });
});

describe('vendor assets', () => {
  test('uPlot is served from this origin', async () => {
    const js = await page('/assets/vendor/uplot.js');
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.ok(js.body.includes('uPlot'));
    const css = await page('/assets/vendor/uplot.css');
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.ok(css.body.includes('.uplot'));
    assert.equal((await page('/assets/vendor/other.js')).statusCode, 404);
  });
});
