import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { RunStatus } from '../../engine/status.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const stepEvents = new EventEmitter<{
  'step-ended': [{ step: { status: string; duration_ms: number | null } }];
}>();
let server: TestServer;
before(async () => {
  server = await startTestServer({ executionEvents: stepEvents });
});
after(() => server.close());

async function executionOn(branch: string, status: RunStatus | 'pending'): Promise<string> {
  const response = await server.request('owner', {
    method: 'POST',
    url: '/api/executions',
    payload: { project_id: server.publicProject.id, ref: branch },
  });
  const id = response.json().id as string;
  if (status === 'pending') return id;
  await server.executions.begin(id);
  if (status !== 'running') await server.executions.finish(id, status);
  return id;
}

function badge(url: string, who: 'anonymous' | 'owner' = 'anonymous') {
  return server.request(who, { method: 'GET', url });
}

// badge-maker's fills for the colours gbcms picks.
const FILLS: Record<string, string> = {
  success: '#4b0',
  failure: '#dd4343',
  error: '#ea7233',
  killed: '#939393',
  running: '#007ec6',
  unknown: '#939393',
};

describe('GET /badges/:project_id.svg', () => {
  test('the latest execution status on a branch, per status, never cached', async () => {
    for (const status of ['success', 'failure', 'error', 'killed', 'running'] as const) {
      await executionOn(`b-${status}`, status);
      const response = await badge(`/badges/${server.publicProject.id}.svg?branch=b-${status}`);
      assert.equal(response.statusCode, 200, status);
      assert.equal(response.headers['content-type'], 'image/svg+xml; charset=utf-8');
      assert.match(String(response.headers['cache-control']), /no-cache/);
      assert.match(response.body, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.match(response.body, new RegExp(`<title>build: ${status}</title>`));
      assert.ok(response.body.includes(`fill="${FILLS[status]}"`), `${status} colour`);
    }
  });

  test('pending executions do not count; a branch with none is unknown', async () => {
    await executionOn('b-flip', 'success');
    await executionOn('b-flip', 'pending');
    const flip = await badge(`/badges/${server.publicProject.id}.svg?branch=b-flip`);
    assert.match(flip.body, /<title>build: success<\/title>/);
    const none = await badge(`/badges/${server.publicProject.id}.svg?branch=never-built`);
    assert.equal(none.statusCode, 200);
    assert.match(none.body, /<title>build: unknown<\/title>/);
    const latest = await badge(`/badges/${server.publicProject.id}.svg`);
    assert.match(latest.body, /<title>build: success<\/title>/, 'the latest on any branch');
  });

  test('private or unknown projects: a grey unknown badge with 404', async () => {
    await server.executions.finish(
      (
        await server.request('owner', {
          method: 'POST',
          url: '/api/executions',
          payload: { project_id: server.privateProject.id },
        })
      ).json().id,
      'failure',
    );
    for (const url of [`/badges/${server.privateProject.id}.svg`, '/badges/does-not-exist.svg']) {
      const response = await badge(url);
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.headers['content-type'], 'image/svg+xml; charset=utf-8');
      assert.match(response.body, /<title>build: unknown<\/title>/);
      assert.ok(response.body.includes(`fill="${FILLS.unknown}"`));
    }
    const member = await server.request('member', {
      method: 'GET',
      url: `/badges/${server.privateProject.id}.svg`,
    });
    assert.equal(member.statusCode, 200);
    assert.match(member.body, /<title>build: failure<\/title>/);
    assert.equal((await badge(`/badges/${server.publicProject.id}.png`)).statusCode, 400);
  });
});

describe('GET /metrics', () => {
  test('Prometheus text with executions by status, queue, running steps, step and HTTP durations', async () => {
    stepEvents.emit('step-ended', { step: { status: 'success', duration_ms: 2500 } });
    stepEvents.emit('step-ended', { step: { status: 'failure', duration_ms: 400 } });
    stepEvents.emit('step-ended', { step: { status: 'skipped', duration_ms: null } });
    await server.request('anonymous', { method: 'GET', url: `/api/projects/${server.publicProject.id}` });
    await server.request('anonymous', { method: 'GET', url: '/api/projects/missing' });

    const response = await server.request('anonymous', { method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = response.body;
    const rows = await server.store.executions.countByStatus();
    for (const row of rows) {
      assert.match(
        text,
        new RegExp(`^gbcms_executions\\{status="${row.status}"\\} ${Number(row.count)}$`, 'm'),
      );
    }
    assert.match(text, /^gbcms_executions\{status="skipped"\} 0$/m);
    assert.match(text, /^gbcms_queue_depth 2$/m);
    assert.match(text, /^gbcms_running_executions 1$/m);
    assert.match(text, /^gbcms_running_steps 3$/m);
    assert.match(text, /^gbcms_step_duration_seconds_count\{status="success"\} 1$/m);
    assert.match(text, /^gbcms_step_duration_seconds_sum\{status="failure"\} 0\.4$/m);
    assert.doesNotMatch(text, /gbcms_step_duration_seconds_count\{status="skipped"\}/);
    assert.match(
      text,
      /^gbcms_http_request_duration_seconds_count\{method="GET",route="\/api\/projects\/:id",status_code="200"\} 1$/m,
    );
    assert.match(
      text,
      /^gbcms_http_request_duration_seconds_count\{method="GET",route="\/api\/projects\/:id",status_code="404"\} 1$/m,
    );
    assert.match(text, /^# TYPE gbcms_process_cpu_seconds_total counter$/m);
  });

  test('the step listener is removed when the app closes', async () => {
    const events = new EventEmitter<{
      'step-ended': [{ step: { status: string; duration_ms: number | null } }];
    }>();
    const other = await startTestServer({ executionEvents: events });
    assert.equal(events.listenerCount('step-ended'), 1);
    await other.close();
    assert.equal(events.listenerCount('step-ended'), 0);
  });
});
