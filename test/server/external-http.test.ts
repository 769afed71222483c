// External executions over real HTTP: the real manager on the fake backend behind app.listen.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { REPORTER_SILENT } from '../../server/executions/external.ts';
import type { ExecutionEvent } from '../../server/executions/types.ts';
import { HANG_MS } from '../helpers/poll.ts';
import { collectEvents } from './helpers/collect-events.ts';
import { type ExternalServer, startExternalServer, waitFor } from './helpers/external-server.ts';

const servers: ExternalServer[] = [];
after(async () => {
  for (const server of servers) await server.close();
});

async function server(options: Parameters<typeof startExternalServer>[0] = {}): Promise<ExternalServer> {
  const started = await startExternalServer({ reportFlushMs: 20, ...options });
  servers.push(started);
  return started;
}

type Json = Record<string, unknown>;

async function createExternal(
  s: ExternalServer,
  body: Json = {},
  projectId = s.publicProject.id,
): Promise<Json> {
  const created = await s.api('owner', 'POST', '/api/executions', {
    project_id: projectId,
    external: true,
    ...body,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body;
}

function events(s: ExternalServer, id: string): Promise<ExecutionEvent[]> {
  return collectEvents(s.manager, id);
}

describe('external executions over HTTP', () => {
  test('create in a session, report, heartbeat, finish: the whole life', async () => {
    const s = await server();
    const first = await createExternal(s, {
      session: 'regression',
      name: 'ridge 0.1',
      heartbeat_timeout: 120,
    });
    assert.equal(first.status, 'running');
    assert.equal(first.external, true);
    assert.equal(first.name, 'ridge 0.1');
    assert.equal(first.heartbeat_timeout_s, 120);
    assert.equal(first.trigger_event, 'api');
    assert.equal(typeof first.session_id, 'string');
    assert.equal(first.started_at, first.created_at);
    const id = String(first.id);
    const live = events(s, id);

    const second = await createExternal(s, { session: 'regression' });
    assert.equal(second.session_id, first.session_id, 'the session is found by name');
    assert.equal(second.heartbeat_timeout_s, 300, 'the default timeout');
    const other = await createExternal(s, { session: 'simulation' });
    assert.notEqual(other.session_id, first.session_id);

    const sent = await s.api('owner', 'POST', `/api/executions/${id}/reports`, [
      { type: 'metric', name: 'loss', value: 0.5, step: 1 },
      { type: 'metric', name: 'loss', value: 0.25, step: 2, time: '2026-01-02T03:04:05Z' },
      { type: 'progress', done: 2, total: 10, message: 'epoch 2' },
      { type: 'annotation', level: 'warning', title: 'Slow epoch' },
      {
        type: 'tests',
        tests: 3,
        failures: 1,
        errors: 0,
        skipped: 0,
        duration_ms: 40,
        failed: [{ name: 'converges' }],
      },
    ]);
    assert.equal(sent.status, 202);
    assert.deepEqual(sent.body, { accepted: 5, refused: 0, errors: [], notices: [] });

    const beat = await s.api('owner', 'POST', `/api/executions/${id}/heartbeat`);
    assert.equal(beat.status, 200);
    assert.equal(beat.body.status, 'running');
    assert.equal(beat.body.heartbeat_timeout, 120);

    const finished = await s.api('owner', 'POST', `/api/executions/${id}/finish`, {
      status: 'success',
      message: 'converged',
    });
    assert.equal(finished.status, 200);
    assert.equal(finished.body.status, 'success');
    assert.equal(finished.body.reason, 'converged');
    assert.equal(typeof finished.body.ended_at, 'string');

    const stream = await live;
    const reports = stream.filter((e) => e.type === 'report');
    assert.deepEqual(
      reports.map((e) => (e.type === 'report' ? [e.seq, e.step, e.report.type] : [])),
      [
        [1, 'external', 'metric'],
        [2, 'external', 'metric'],
        [3, 'external', 'progress'],
        [4, 'external', 'annotation'],
        [5, 'external', 'tests'],
      ],
    );
    assert.equal(stream[0]?.type, 'status');
    assert.equal(stream.at(-1)?.type, 'end');

    const stored = await s.api<{ items: { seq: number; report: Json }[]; next: number | null }>(
      'anonymous',
      'GET',
      `/api/executions/${id}/reports?type=metric`,
    );
    assert.equal(stored.status, 200);
    assert.deepEqual(
      stored.body.items.map((item) => item.report.value),
      [0.5, 0.25],
    );
    assert.equal(stored.body.items[1]?.report.time, '2026-01-02T03:04:05.000Z', 'its own time is kept');
    const tests = await s.api<{ items: { report: Json }[] }>(
      'anonymous',
      'GET',
      `/api/executions/${id}/reports?type=tests`,
    );
    assert.deepEqual(tests.body.items[0]?.report.failed, [
      { suite: '', name: 'converges', classname: '', message: '' },
    ]);

    const session = await s.api<{ name: string; executions: Json[] }>(
      'anonymous',
      'GET',
      `/api/sessions/${String(first.session_id)}`,
    );
    assert.equal(session.status, 200);
    assert.equal(session.body.name, 'regression');
    assert.deepEqual(
      session.body.executions.map((e) => [e.id, e.status, e.external]),
      [
        [id, 'success', true],
        [second.id, 'running', true],
      ],
    );
    const sessions = await s.api<{ items: Json[] }>(
      'anonymous',
      'GET',
      `/api/projects/${s.publicProject.id}/sessions`,
    );
    assert.deepEqual(sessions.body.items.map((item) => [item.name, item.executions]).sort(), [
      ['regression', 2],
      ['simulation', 1],
    ]);
  });

  test('finish failure; afterwards reports, heartbeats and finish answer 409', async () => {
    const s = await server();
    const id = String((await createExternal(s)).id);
    const failed = await s.api('owner', 'POST', `/api/executions/${id}/finish`, { status: 'failure' });
    assert.equal(failed.status, 200);
    assert.equal(failed.body.status, 'failure');
    assert.equal(failed.body.reason, null);
    for (const [path, body] of [
      ['reports', [{ type: 'metric', name: 'x', value: 1 }]],
      ['heartbeat', undefined],
      ['finish', { status: 'success' }],
    ] as const) {
      const late = await s.api('owner', 'POST', `/api/executions/${id}/${path}`, body);
      assert.equal(late.status, 409, path);
      assert.deepEqual(late.body, {
        error: 'GBCMS_ERR_EXECUTION_ENDED',
        message: 'the execution has already ended',
      });
    }
  });

  test('reports, heartbeat and finish on a pipeline execution answer 409', async () => {
    const s = await server();
    const source = await mkdtemp(join(tmpdir(), 'gbcms-external-src-'));
    await writeFile(
      join(source, '.gbcms.yml'),
      'version: 1\nsteps:\n  wait:\n    image: busybox:stable\n    commands: [run]\n    env:\n      STEP_SLEEP_MS: "5000"\n',
    );
    const project = await s.store.projects.create({
      name: 'pipeline',
      repo: source,
      owner_id: s.users.owner.id,
    });
    const started = await s.api('owner', 'POST', '/api/executions', { project_id: project.id });
    assert.equal(started.status, 201);
    assert.equal(started.body.external, false);
    const id = String(started.body.id);
    for (const [path, body] of [
      ['reports', [{ type: 'metric', name: 'x', value: 1 }]],
      ['heartbeat', undefined],
      ['finish', { status: 'success' }],
    ] as const) {
      const refused = await s.api('owner', 'POST', `/api/executions/${id}/${path}`, body);
      assert.equal(refused.status, 409, path);
      assert.deepEqual(refused.body, {
        error: 'GBCMS_ERR_NOT_EXTERNAL',
        message: 'the execution is not external: gbcms runs it and reports for it',
      });
    }
    await s.api('owner', 'POST', `/api/executions/${id}/terminate`);
    await rm(source, { recursive: true, force: true });
  });

  test('invalid items are refused one by one, with their index; the others are kept', async () => {
    const s = await server();
    const id = String((await createExternal(s)).id);
    const items = [
      { type: 'metric', name: 'ok', value: 1 },
      { type: 'metric', name: 'inf', value: Number.POSITIVE_INFINITY },
      { type: 'metric', name: 'text', value: 'NaN' },
      { type: 'metric', name: 'x'.repeat(129), value: 1 },
      { type: 'metric', name: 'bad name', value: 1 },
      { type: 'progress', done: 11, total: 10 },
      { type: 'annotation', level: 'fatal', title: 't' },
      { type: 'metric', name: 'ok', value: 2, extra: true },
      { type: 'unknown' },
      'not an object',
      { type: 'metric', name: 'ok', value: 3, time: 'yesterday' },
      { type: 'tests', tests: -1, failures: 0, errors: 0, skipped: 0, duration_ms: 0 },
      { type: 'metric', name: 'ok', value: 4, step: 2 },
    ];
    const sent = await s.api<{
      accepted: number;
      refused: number;
      errors: { index: number; error: string }[];
    }>(
      'owner',
      'POST',
      `/api/executions/${id}/reports`,
      // Infinity is sent as 1e999 (JSON.parse reads it as Infinity): JSON.stringify would write null.
      JSON.stringify(items).replace('"value":null', '"value":1e999'),
    );
    assert.equal(sent.status, 202);
    assert.equal(sent.body.accepted, 2);
    assert.equal(sent.body.refused, 11);
    assert.deepEqual(
      sent.body.errors.map((e) => e.index),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    );
    const byIndex = new Map(sent.body.errors.map((e) => [e.index, e.error]));
    assert.match(byIndex.get(1) ?? '', /finite/);
    assert.match(byIndex.get(2) ?? '', /finite/);
    assert.match(byIndex.get(3) ?? '', /129 characters long; at most 128/);
    assert.match(byIndex.get(7) ?? '', /unknown field extra/);
    assert.match(byIndex.get(8) ?? '', /type must be metric, progress, annotation or tests/);
    assert.match(byIndex.get(11) ?? '', /tests must be a whole number/);
    await waitFor(async () => (await s.store.reports.lastSeq(id)) === 2);

    const single = await s.api('owner', 'POST', `/api/executions/${id}/reports`, {
      type: 'metric',
      name: 'ok',
      value: 5,
    });
    assert.equal(single.status, 202);
    assert.deepEqual(single.body, { accepted: 1, refused: 0, errors: [], notices: [] });
    await waitFor(async () => (await s.store.reports.lastSeq(id)) === 3);
    const number = await s.api('owner', 'POST', `/api/executions/${id}/reports`, '42');
    assert.equal(number.status, 202, 'a lone value is an item like any other');
    assert.deepEqual(number.body.errors, [{ index: 0, error: 'not a JSON object' }]);
    const tooMany = await s.api('owner', 'POST', `/api/executions/${id}/reports`, Array(10_001).fill({}));
    assert.equal(tooMany.status, 400);
    const notJson = await s.api('owner', 'POST', `/api/executions/${id}/reports`, '[{"type":');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error, 'GBCMS_ERR_INVALID_JSON');
    // NaN is not JSON: Python's json.dumps writes it unless told allow_nan=False.
    const nan = await s.api(
      'owner',
      'POST',
      `/api/executions/${id}/reports`,
      '[{"type":"metric","name":"x","value":NaN}]',
    );
    assert.equal(nan.status, 400);
  });

  test('a metric past its point budget is downsampled, with a notice; its last point is stored at the end', async () => {
    const s = await server({ reportLimits: { pointsPerSeries: 10 } });
    const id = String((await createExternal(s)).id);
    const live = events(s, id);
    const points = Array.from({ length: 25 }, (_, i) => ({
      type: 'metric',
      name: 'loss',
      value: i,
      step: i,
    }));
    const sent = await s.api<{ accepted: number; notices: string[] }>(
      'owner',
      'POST',
      `/api/executions/${id}/reports`,
      points,
    );
    assert.equal(sent.body.accepted, 25, 'downsampled points still count as accepted');
    assert.equal(sent.body.notices.length, 1);
    assert.match(sent.body.notices[0] ?? '', /metric loss passed 10 points; from now on 1 in 2 is kept/);
    const more = await s.api<{ notices: string[] }>('owner', 'POST', `/api/executions/${id}/reports`, [
      { type: 'metric', name: 'loss', value: 25, step: 25 },
      { type: 'metric', name: 'loss', value: 26, step: 26 },
    ]);
    assert.deepEqual(more.body.notices, [], 'the notice is given once');
    await s.api('owner', 'POST', `/api/executions/${id}/finish`, { status: 'success' });
    const stored = await s.store.reports.list({ executionId: id, name: 'loss' });
    const steps = stored.items.map((item) => (item.report.type === 'metric' ? item.report.step : -1));
    // 10 at full rate, then every 2nd; 26 was left out, but as the last point it is stored at the end.
    assert.deepEqual(steps, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 17, 19, 21, 23, 25, 26]);
    const notice = (await live).find((e) => e.type === 'notice');
    assert.match(notice?.type === 'notice' ? notice.message : '', /metric loss passed 10 points/);
  });

  test('metric names and annotations past their caps are ignored with one notice each, as in a step', async () => {
    const s = await server({ reportLimits: { metricsPerStep: 2, annotationsPerStep: 1 } });
    const id = String((await createExternal(s)).id);
    const annotation = { type: 'annotation', level: 'warning', title: 'slow' };
    const sent = await s.api<{ accepted: number; refused: number; notices: string[] }>(
      'owner',
      'POST',
      `/api/executions/${id}/reports`,
      [
        { type: 'metric', name: 'a', value: 1 },
        { type: 'metric', name: 'b', value: 1 },
        { type: 'metric', name: 'c', value: 1 },
        { type: 'metric', name: 'd', value: 1 },
        { type: 'metric', name: 'a', value: 2 },
        annotation,
        annotation,
      ],
    );
    assert.equal(sent.status, 202);
    assert.deepEqual(sent.body, {
      accepted: 7,
      refused: 0,
      errors: [],
      notices: [
        "more than 2 different metrics; 'c' and any later new names are ignored",
        'more than 1 annotations; later ones are ignored',
      ],
    });
    const again = await s.api<{ notices: string[] }>('owner', 'POST', `/api/executions/${id}/reports`, [
      { type: 'metric', name: 'e', value: 1 },
      annotation,
    ]);
    assert.deepEqual(again.body.notices, [], 'each notice is given once');
    await s.api('owner', 'POST', `/api/executions/${id}/finish`, { status: 'success' });
    const stored = await s.store.reports.list({ executionId: id });
    assert.deepEqual(
      stored.items.map(({ report }) =>
        report.type === 'metric' ? `${report.name}=${report.value}` : report.type,
      ),
      ['a=1', 'b=1', 'a=2', 'annotation'],
    );
  });

  test('an execution whose reporter stops heart-beating ends as error; heartbeats and reports keep it alive', async () => {
    // The manager's clock moves only when the test says, and the test sweeps for silent
    // executions itself: how long requests take on a loaded machine changes nothing.
    let nowMs = Date.now();
    const s = await server({
      minHeartbeatTimeoutS: 1,
      heartbeatSweepMs: 10 * HANG_MS,
      now: () => new Date(nowMs),
    });
    const id = String((await createExternal(s, { heartbeat_timeout: 1 })).id);
    const live = events(s, id);
    const status = async () => (await s.store.executions.get(id))?.status;
    // 2.4 s in all, never 1 s without a sign of life: a heartbeat, then a report, in turn.
    for (const path of ['heartbeat', 'reports', 'heartbeat']) {
      nowMs += 800;
      assert.deepEqual(await s.manager.external.sweep(), [], `alive before the ${path}`);
      const body = path === 'reports' ? [{ type: 'metric', name: 'x', value: 1 }] : undefined;
      const answer = await s.api('owner', 'POST', `/api/executions/${id}/${path}`, body);
      assert.ok(answer.status === 200 || answer.status === 202, `${path}: ${answer.status}`);
    }
    assert.equal(await status(), 'running', 'alive past its timeout thanks to signs of life');

    // Silent for exactly its timeout: still running; a millisecond more and it ends.
    nowMs += 1000;
    assert.deepEqual(await s.manager.external.sweep(), []);
    assert.equal(await status(), 'running');
    nowMs += 1;
    assert.deepEqual(await s.manager.external.sweep(), [id]);
    const ended = await s.store.executions.get(id);
    assert.equal(ended?.status, 'error');
    assert.equal(ended?.reason, REPORTER_SILENT);
    assert.equal(ended?.reason, 'reporter stopped responding');
    const end = (await live).at(-1);
    assert.equal(end?.type === 'end' ? end.execution.status : undefined, 'error');
    const late = await s.api('owner', 'POST', `/api/executions/${id}/heartbeat`);
    assert.equal(late.status, 409);
  });

  test('the heartbeat timeout is 10 s to 86400 s through the API', async () => {
    const s = await server();
    for (const timeout of [9, 86_401, 1.5]) {
      const refused = await s.api('owner', 'POST', '/api/executions', {
        project_id: s.publicProject.id,
        external: true,
        heartbeat_timeout: timeout,
      });
      assert.equal(refused.status, 400, String(timeout));
    }
    assert.equal((await createExternal(s, { heartbeat_timeout: 10 })).heartbeat_timeout_s, 10);
    assert.equal((await createExternal(s, { heartbeat_timeout: 86_400 })).heartbeat_timeout_s, 86_400);
    const openapi = await s.api<{ paths: Record<string, unknown> }>('anonymous', 'GET', '/api/openapi.json');
    const text = JSON.stringify(openapi.body.paths['/api/executions']);
    assert.match(text, /"heartbeat_timeout":\{"type":"integer","minimum":10,"maximum":86400/);
  });

  test('fields of external executions are refused without external: true, and ref/commit with it', async () => {
    const s = await server();
    const session = await s.api('owner', 'POST', '/api/executions', {
      project_id: s.publicProject.id,
      session: 'x',
    });
    assert.equal(session.status, 400);
    assert.match(String(session.body.message), /session: only with external: true/);
    const ref = await s.api('owner', 'POST', '/api/executions', {
      project_id: s.publicProject.id,
      external: true,
      ref: 'main',
    });
    assert.equal(ref.status, 400);
    const badSession = await s.api('owner', 'POST', '/api/executions', {
      project_id: s.publicProject.id,
      external: true,
      session: ' padded',
    });
    assert.equal(badSession.status, 400);
  });

  test('access: writing needs a developer on the project or an admin; reading follows the project', async () => {
    const s = await server();
    const write = (who: Parameters<ExternalServer['api']>[0], projectId: string) =>
      s.api(who, 'POST', '/api/executions', { project_id: projectId, external: true });
    assert.equal((await write('anonymous', s.publicProject.id)).status, 401);
    assert.equal((await write('stranger', s.publicProject.id)).status, 403);
    assert.equal((await write('stranger', s.privateProject.id)).status, 404);
    assert.equal((await write('member', s.privateProject.id)).status, 201);
    assert.equal((await write('admin', s.privateProject.id)).status, 201);

    const open = String((await createExternal(s, { session: 'pub' })).id);
    const hidden = await createExternal(s, { session: 'priv' }, s.privateProject.id);
    const hiddenId = String(hidden.id);
    for (const path of ['reports', 'heartbeat', 'finish']) {
      const body = path === 'reports' ? [] : path === 'finish' ? { status: 'success' } : undefined;
      assert.equal(
        (await s.api('anonymous', 'POST', `/api/executions/${open}/${path}`, body)).status,
        401,
        path,
      );
      assert.equal(
        (await s.api('stranger', 'POST', `/api/executions/${open}/${path}`, body)).status,
        403,
        path,
      );
      assert.equal(
        (await s.api('stranger', 'POST', `/api/executions/${hiddenId}/${path}`, body)).status,
        404,
        path,
      );
    }
    assert.equal((await s.api('member', 'POST', `/api/executions/${hiddenId}/reports`, [])).status, 202);

    for (const path of [
      `/api/executions/${hiddenId}/reports`,
      `/api/executions/${hiddenId}/metrics`,
      `/api/executions/${hiddenId}/metrics.csv`,
      `/api/sessions/${String(hidden.session_id)}`,
      `/api/projects/${s.privateProject.id}/sessions`,
    ]) {
      assert.equal((await s.api('anonymous', 'GET', path)).status, 404, path);
      assert.equal((await s.api('stranger', 'GET', path)).status, 404, path);
      assert.equal((await s.api('member', 'GET', path)).status, 200, path);
    }
    assert.equal((await s.api('anonymous', 'GET', `/api/executions/${open}/reports`)).status, 200);
    assert.equal((await s.api('anonymous', 'GET', '/api/sessions/no-such-session')).status, 404);
  });

  test('terminating an external execution ends it killed and stores what it had sent', async () => {
    const s = await server({ reportFlushMs: 60_000 });
    const id = String((await createExternal(s)).id);
    await s.api('owner', 'POST', `/api/executions/${id}/reports`, [{ type: 'metric', name: 'x', value: 1 }]);
    const terminated = await s.api('owner', 'POST', `/api/executions/${id}/terminate`);
    assert.equal(terminated.status, 200);
    assert.equal(terminated.body.execution_id, id);
    const row = await s.store.executions.get(id);
    assert.equal(row?.status, 'killed');
    assert.equal(row?.reason, 'terminated by user');
    assert.equal(await s.store.reports.lastSeq(id), 1, 'the buffered report was stored before the end');
    assert.equal((await s.api('owner', 'POST', `/api/executions/${id}/terminate`)).status, 409);
  });

  test('after a restart, running external executions are followed again; silent ones end', async () => {
    const s = await server({ minHeartbeatTimeoutS: 1, heartbeatSweepMs: 60_000 });
    const alive = String((await createExternal(s, { heartbeat_timeout: 60 })).id);
    const silent = String((await createExternal(s, { heartbeat_timeout: 1 })).id);
    await s.api('owner', 'POST', `/api/executions/${alive}/reports`, [
      { type: 'metric', name: 'x', value: 1 },
      { type: 'metric', name: 'x', value: 2 },
    ]);
    await s.manager.drain(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const restarted = s.newManager({ minHeartbeatTimeoutS: 1, heartbeatSweepMs: 60_000 });
    const report = await restarted.recover();
    assert.deepEqual(
      report,
      { failed: [], requeued: [], blocked: [] },
      'external executions are neither failed nor queued',
    );
    assert.equal((await s.store.executions.get(silent))?.reason, REPORTER_SILENT);
    assert.equal((await s.store.executions.get(alive))?.status, 'running');

    const live: ExecutionEvent[] = [];
    let ended: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      ended = resolve;
    });
    await restarted.subscribe(alive, (event) => {
      live.push(event);
      if (event.type === 'end') ended();
    });
    await restarted.external.report(alive, [{ type: 'metric', name: 'x', value: 3 }]);
    await restarted.external.finish(alive, 'success');
    await done;
    assert.deepEqual(
      live.map((e) => (e.type === 'report' ? `${e.id} report ${e.seq}` : `${e.id} ${e.type}`)),
      ['1 status', '2 report 1', '3 report 2', '4 report 3', '5 end'],
    );
  });
});
