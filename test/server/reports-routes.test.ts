// The reports read API (list, metric names, CSV) through app.inject on the fake manager, and the
// CSV quoting on its own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Report } from '../../engine/reports/types.ts';
import { csvField, csvRow } from '../../server/routes/api/reports.ts';
import type { Execution } from '../../server/store/index.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let server: TestServer;
let execution: Execution;

const at = (i: number) => new Date(Date.UTC(2026, 2, 1, 12, 0, i)).toISOString();
const metric = (name: string, value: number, step?: number, i = 0): Report =>
  step === undefined
    ? { type: 'metric', name, value, time: at(i) }
    : { type: 'metric', name, value, step, time: at(i) };

before(async () => {
  server = await startTestServer();
  execution = await server.store.executions.create({
    project_id: server.privateProject.id,
    trigger: { event: 'api' },
  });
  await server.store.reports.addEntries(execution.id, [
    { step: 'train', report: metric('loss', 0.5, 1, 1) },
    { step: 'train', report: metric('acc', 0.75, 1, 2) },
    { step: 'train', report: { type: 'progress', done: 1, total: 2, time: at(3) } },
    { step: 'say "hi", then\nleave', report: metric('loss', 1e-7, undefined, 4) },
    { step: 'train', report: metric('loss', -2.5, 2, 5) },
  ]);
});
after(async () => {
  await server.close();
});

interface Page {
  items: { seq: number; step: string; report: Record<string, unknown> }[];
  next: number | null;
}

describe('reports read API', () => {
  test('lists reports with filters, a page at a time', async () => {
    const all = await server.request('member', {
      method: 'GET',
      url: `/api/executions/${execution.id}/reports`,
    });
    assert.equal(all.statusCode, 200);
    const page = all.json<Page>();
    assert.deepEqual(
      page.items.map((item) => item.seq),
      [1, 2, 3, 4, 5],
    );
    assert.equal(page.next, null);
    assert.deepEqual(page.items[2], {
      seq: 3,
      step: 'train',
      report: { type: 'progress', done: 1, total: 2, time: at(3) },
    });

    const first = await server.request('member', {
      method: 'GET',
      url: `/api/executions/${execution.id}/reports?type=metric&name=loss&limit=2`,
    });
    const firstPage = first.json<Page>();
    assert.deepEqual(
      firstPage.items.map((item) => [item.seq, item.report.value]),
      [
        [1, 0.5],
        [4, 1e-7],
      ],
    );
    assert.equal(firstPage.next, 4);
    const second = await server.request('member', {
      method: 'GET',
      url: `/api/executions/${execution.id}/reports?type=metric&name=loss&limit=2&after=4`,
    });
    assert.deepEqual(second.json<Page>(), {
      items: [
        {
          seq: 5,
          step: 'train',
          report: { type: 'metric', name: 'loss', value: -2.5, step: 2, time: at(5) },
        },
      ],
      next: null,
    });
    const byStep = await server.request('member', {
      method: 'GET',
      url: `/api/executions/${execution.id}/reports?step=${encodeURIComponent('say "hi", then\nleave')}`,
    });
    assert.deepEqual(
      byStep.json<Page>().items.map((item) => item.seq),
      [4],
    );
  });

  test('refuses bad filters', async () => {
    for (const query of ['type=log', 'limit=0', 'limit=10001', 'after=-1', `name=${'x'.repeat(129)}`]) {
      const answer = await server.request('member', {
        method: 'GET',
        url: `/api/executions/${execution.id}/reports?${query}`,
      });
      assert.equal(answer.statusCode, 400, query);
    }
  });

  test('lists metric names per step', async () => {
    const answer = await server.request('member', {
      method: 'GET',
      url: `/api/executions/${execution.id}/metrics`,
    });
    assert.deepEqual(answer.json(), {
      items: [
        { step: 'say "hi", then\nleave', name: 'loss', count: 1 },
        { step: 'train', name: 'acc', count: 1 },
        { step: 'train', name: 'loss', count: 2 },
      ],
    });
  });

  test('gives metric points as CSV, quoted per RFC 4180', async () => {
    const answer = await server.request('member', {
      method: 'GET',
      url: `/api/executions/${execution.id}/metrics.csv`,
    });
    assert.equal(answer.statusCode, 200);
    assert.match(String(answer.headers['content-type']), /^text\/csv; charset=utf-8/);
    assert.match(String(answer.headers['content-disposition']), /attachment; filename="[^"]+-metrics\.csv"/);
    assert.equal(
      answer.body,
      [
        'step,name,step_number,value,time',
        `train,loss,1,0.5,${at(1)}`,
        `train,acc,1,0.75,${at(2)}`,
        `"say ""hi"", then\nleave",loss,,1e-7,${at(4)}`,
        `train,loss,2,-2.5,${at(5)}`,
        '',
      ].join('\r\n'),
    );
    const loss = await server.request('member', {
      method: 'GET',
      url: `/api/executions/${execution.id}/metrics.csv?name=loss&step=train`,
    });
    assert.equal(
      loss.body,
      `step,name,step_number,value,time\r\ntrain,loss,1,0.5,${at(1)}\r\ntrain,loss,2,-2.5,${at(5)}\r\n`,
    );
    const none = await server.request('member', {
      method: 'GET',
      url: `/api/executions/${execution.id}/metrics.csv?name=nothing`,
    });
    assert.equal(none.body, 'step,name,step_number,value,time\r\n');
  });

  test('a private execution is 404 to strangers and anonymous callers, readable by members', async () => {
    for (const path of ['reports', 'metrics', 'metrics.csv']) {
      const url = `/api/executions/${execution.id}/${path}`;
      assert.equal((await server.request('anonymous', { method: 'GET', url })).statusCode, 404, path);
      assert.equal((await server.request('stranger', { method: 'GET', url })).statusCode, 404, path);
      assert.equal((await server.request('admin', { method: 'GET', url })).statusCode, 200, path);
    }
  });

  test('every route is in the OpenAPI document with its schema', async () => {
    const answer = await server.request('anonymous', { method: 'GET', url: '/api/openapi.json' });
    const paths = answer.json<{ paths: Record<string, Record<string, { parameters?: unknown[] }>> }>().paths;
    for (const [path, method] of [
      ['/api/executions/{id}/reports', 'get'],
      ['/api/executions/{id}/reports', 'post'],
      ['/api/executions/{id}/metrics', 'get'],
      ['/api/executions/{id}/metrics.csv', 'get'],
      ['/api/executions/{id}/heartbeat', 'post'],
      ['/api/executions/{id}/finish', 'post'],
      ['/api/sessions/{id}', 'get'],
      ['/api/projects/{id}/sessions', 'get'],
    ] as const) {
      assert.ok(paths[path]?.[method], `${method} ${path}`);
    }
    assert.ok((paths['/api/executions/{id}/reports']?.get?.parameters?.length ?? 0) >= 5);
  });
});

describe('CSV fields', () => {
  test('are quoted only when they hold a comma, a quote or a line break', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "x"'), '"say ""x"""');
    assert.equal(csvField('line\nbreak'), '"line\nbreak"');
    assert.equal(csvField('cr\r'), '"cr\r"');
    assert.equal(csvField(''), '');
    assert.equal(csvField(null), '');
    assert.equal(csvField(undefined), '');
    assert.equal(csvField(0), '0');
    assert.equal(csvField(-1.5e-9), '-1.5e-9');
    assert.equal(csvRow(['a', 1, null, 'b,c']), 'a,1,,"b,c"\r\n');
  });
});
