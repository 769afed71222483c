// Badges and /metrics on a real server: known fixtures (rows made through the store's API, or
// executions run by the real manager on the fake backend) and the literal badges and metric
// lines they must give.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunStatus, StepStatus } from '../../engine/status.ts';
import type { StepEnded } from '../../server/executions/manager.ts';
import type { Project } from '../../server/store/index.ts';
import { beforeHang } from '../helpers/hang.ts';
import { HANG_MS } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { type ExternalServer, startExternalServer } from './helpers/external-server.ts';
import { writePipeline } from './helpers/fake-managers.ts';
import { parseSse, readSse } from './helpers/sse.ts';

const { tempDir } = cleanUpAfterAll();

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
  let server: ExternalServer;
  before(async () => {
    server = await startExternalServer();
  });
  after(() => server.close());

  /** A row on `branch` left in `status`, made through the store's API as the manager would. */
  async function executionOn(project: Project, branch: string, status: RunStatus): Promise<void> {
    const { id } = await server.store.executions.create({
      project_id: project.id,
      trigger: { event: 'push', branch },
    });
    if (status === 'pending') return;
    await server.store.executions.setStarted(id);
    if (status !== 'running') await server.store.executions.setEnded(id, status, null);
  }

  function badge(url: string, who: 'anonymous' | 'member' = 'anonymous') {
    return server.app.inject({
      method: 'GET',
      url,
      headers: who === 'member' ? { authorization: `Bearer ${server.tokens.member}` } : {},
    });
  }

  /** The text and fill colour of the badge's message: what a reader of the README sees. */
  function shown(svg: string): { title: string; fill: string } {
    const title = /<title>([^<]*)<\/title>/.exec(svg)?.[1] ?? '';
    const fills = [...svg.matchAll(/<rect [^>]*fill="(#[0-9a-f]+)"/g)].map((match) => match[1] ?? '');
    // The label's grey, then the message's colour.
    return { title, fill: fills[1] ?? '' };
  }

  test('the latest execution status on a branch, with its colour, never cached', async () => {
    const project = server.publicProject;
    for (const status of ['success', 'failure', 'error', 'killed', 'running'] as const) {
      await executionOn(project, `b-${status}`, status);
    }
    const seen: Record<string, { title: string; fill: string }> = {};
    for (const status of ['success', 'failure', 'error', 'killed', 'running']) {
      const response = await badge(`/badges/${project.id}.svg?branch=b-${status}`);
      assert.equal(response.statusCode, 200, status);
      assert.equal(response.headers['content-type'], 'image/svg+xml; charset=utf-8');
      assert.equal(response.headers['cache-control'], 'no-cache, max-age=0');
      assert.match(response.body, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      seen[status] = shown(response.body);
    }
    assert.deepEqual(seen, {
      success: { title: 'build: success', fill: FILLS.success },
      failure: { title: 'build: failure', fill: FILLS.failure },
      error: { title: 'build: error', fill: FILLS.error },
      killed: { title: 'build: killed', fill: FILLS.killed },
      running: { title: 'build: running', fill: FILLS.running },
    });
  });

  test('pending executions do not count; a branch with none is unknown; no branch means any', async () => {
    const project = await server.store.projects.create({
      name: 'badges-flip',
      repo: '/srv/git/flip.git',
      visibility: 'public',
      owner_id: server.users.owner.id,
    });
    assert.deepEqual(shown((await badge(`/badges/${project.id}.svg`)).body), {
      title: 'build: unknown',
      fill: FILLS.unknown,
    });
    await executionOn(project, 'main', 'failure');
    await executionOn(project, 'flip', 'success');
    await executionOn(project, 'flip', 'pending');
    assert.equal(shown((await badge(`/badges/${project.id}.svg?branch=flip`)).body).title, 'build: success');
    assert.equal(shown((await badge(`/badges/${project.id}.svg?branch=main`)).body).title, 'build: failure');
    const none = await badge(`/badges/${project.id}.svg?branch=never-built`);
    assert.equal(none.statusCode, 200);
    assert.equal(shown(none.body).title, 'build: unknown');
    assert.equal(shown((await badge(`/badges/${project.id}.svg`)).body).title, 'build: success');
    await executionOn(project, 'main', 'running');
    assert.equal(shown((await badge(`/badges/${project.id}.svg`)).body).title, 'build: running');
  });

  test('private or unknown projects: a grey unknown badge with 404; members see the status', async () => {
    await executionOn(server.privateProject, 'main', 'failure');
    for (const url of [`/badges/${server.privateProject.id}.svg`, '/badges/does-not-exist.svg']) {
      const response = await badge(url);
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.headers['content-type'], 'image/svg+xml; charset=utf-8');
      assert.deepEqual(shown(response.body), { title: 'build: unknown', fill: FILLS.unknown }, url);
    }
    const member = await badge(`/badges/${server.privateProject.id}.svg`, 'member');
    assert.equal(member.statusCode, 200);
    assert.deepEqual(shown(member.body), { title: 'build: failure', fill: FILLS.failure });
    assert.equal((await badge(`/badges/${server.publicProject.id}.png`)).statusCode, 400);
  });
});

describe('GET /metrics', () => {
  const step = (env: string) => `version: 1
steps:
  only:
    image: busybox:stable
    commands: [run]
    env:
${env}
`;
  const PASSES = step('      STEP_OUTPUT: "fine\\n"');
  const FAILS = step('      STEP_EXIT_CODE: "1"');
  const CANNOT_SET_UP = step('      FAKE_SETUP_ERROR: "no network"');
  const SLEEPS = step(`      STEP_SLEEP_MS: "${10 * HANG_MS}"`);

  let server: ExternalServer;
  let projects = 0;
  before(async () => {
    // One slot: a sleeping execution holds it and the next ones wait in the queue.
    server = await startExternalServer({ maxRunning: 1 });
  });
  after(() => server.close());

  async function project(pipeline: string): Promise<Project> {
    projects += 1;
    return server.store.projects.create({
      name: `metrics-${projects}`,
      repo: await writePipeline(await tempDir('gbcms-metrics-src-'), pipeline),
      visibility: 'public',
      owner_id: server.users.owner.id,
    });
  }

  async function start(on: Project): Promise<string> {
    const answer = await server.api<{ id: string }>('owner', 'POST', '/api/executions', {
      project_id: on.id,
    });
    assert.equal(answer.status, 201);
    return answer.body.id;
  }

  /** Its event stream, read to the end: resolves with the status it ended with. */
  async function ended(id: string): Promise<string> {
    const response = await server.app.inject({ method: 'GET', url: `/api/executions/${id}/events` });
    const end = parseSse(response.body).at(-1);
    assert.equal(end?.event, 'end');
    return JSON.parse(end.data).execution.status;
  }

  /** Resolves once the step of `id` is running (seen live on its event stream). */
  async function stepRunning(id: string): Promise<void> {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/api/executions/${id}/events`, { signal: controller.signal });
    assert.ok(response.body);
    const running = (async () => {
      for await (const event of readSse(response.body as ReadableStream<Uint8Array>)) {
        if (event.event === 'step' && JSON.parse(event.data).step.status === 'running') return;
      }
      throw new Error(`the stream of ${id} ended before its step ran`);
    })();
    try {
      await beforeHang(running, `the step of ${id} running`);
    } finally {
      controller.abort();
    }
  }

  async function scrape(): Promise<string[]> {
    const response = await server.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return response.body.split('\n');
  }

  /** The lines of `text` that start with one of `prefixes`, in the order printed. */
  const linesOf = (lines: string[], ...prefixes: string[]) =>
    lines.filter((line) => prefixes.some((prefix) => line.startsWith(prefix)));

  test('executions by status, the queue and running steps, as the manager and store have them', async () => {
    const [passes, fails, cannotSetUp, sleeps] = [
      await project(PASSES),
      await project(FAILS),
      await project(CANNOT_SET_UP),
      await project(SLEEPS),
    ];
    const outcomes: string[] = [];
    for (const on of [passes, passes, fails, passes, cannotSetUp, fails]) {
      outcomes.push(await ended(await start(on)));
    }
    assert.deepEqual(outcomes, ['success', 'success', 'failure', 'success', 'error', 'failure']);

    const idle = await scrape();
    assert.deepEqual(linesOf(idle, 'gbcms_executions{'), [
      'gbcms_executions{status="pending"} 0',
      'gbcms_executions{status="blocked"} 0',
      'gbcms_executions{status="running"} 0',
      'gbcms_executions{status="success"} 3',
      'gbcms_executions{status="failure"} 2',
      'gbcms_executions{status="error"} 1',
      'gbcms_executions{status="killed"} 0',
      'gbcms_executions{status="skipped"} 0',
    ]);
    assert.deepEqual(
      linesOf(idle, 'gbcms_queue_depth ', 'gbcms_running_executions ', 'gbcms_running_steps '),
      ['gbcms_queue_depth 0', 'gbcms_running_executions 0', 'gbcms_running_steps 0'],
    );
    // Steps that ran: three passed, two failed; the set-up error ran none.
    assert.deepEqual(linesOf(idle, 'gbcms_step_duration_seconds_count'), [
      'gbcms_step_duration_seconds_count{status="success"} 3',
      'gbcms_step_duration_seconds_count{status="failure"} 2',
    ]);

    // One execution holds the only slot with its step running; two executions wait.
    const holder = await start(sleeps);
    await stepRunning(holder);
    const waiting = [await start(passes), await start(fails)];
    const busy = await scrape();
    assert.deepEqual(
      linesOf(busy, 'gbcms_executions{status="pending"}', 'gbcms_executions{status="running"}'),
      ['gbcms_executions{status="pending"} 2', 'gbcms_executions{status="running"} 1'],
    );
    assert.deepEqual(
      linesOf(busy, 'gbcms_queue_depth ', 'gbcms_running_executions ', 'gbcms_running_steps '),
      ['gbcms_queue_depth 2', 'gbcms_running_executions 1', 'gbcms_running_steps 1'],
    );

    for (const id of [...waiting, holder]) {
      assert.equal((await server.api('owner', 'POST', `/api/executions/${id}/terminate`)).status, 200);
      assert.equal(await ended(id), 'killed');
    }
    const after = await scrape();
    assert.deepEqual(linesOf(after, 'gbcms_executions{status="killed"}', 'gbcms_queue_depth '), [
      'gbcms_executions{status="killed"} 3',
      'gbcms_queue_depth 0',
    ]);
    // The killed step counts; the executions that never started ran none.
    assert.deepEqual(linesOf(after, 'gbcms_step_duration_seconds_count'), [
      'gbcms_step_duration_seconds_count{status="success"} 3',
      'gbcms_step_duration_seconds_count{status="failure"} 2',
      'gbcms_step_duration_seconds_count{status="killed"} 1',
    ]);
  });

  test('step durations in seconds, in their buckets; steps without a duration are left out', async () => {
    const other = await startExternalServer();
    try {
      // The manager's own emitter, fed steps of known durations.
      const execution = await other.store.executions.create({
        project_id: other.publicProject.id,
        trigger: { event: 'api' },
      });
      const ended = (status: StepStatus, duration_ms: number | null): StepEnded => ({
        execution,
        step: {
          name: status,
          status,
          exit_code: null,
          reason: null,
          started_at: null,
          ended_at: null,
          duration_ms,
          attempts: 1,
          log: `${status}.log`,
        },
      });
      other.manager.events.emit('step-ended', ended('success', 2500));
      other.manager.events.emit('step-ended', ended('success', 700));
      other.manager.events.emit('step-ended', ended('failure', 400));
      other.manager.events.emit('step-ended', ended('skipped', null));
      const response = await other.app.inject({ method: 'GET', url: '/metrics' });
      const lines = response.body.split('\n');
      assert.deepEqual(
        linesOf(
          lines,
          'gbcms_step_duration_seconds_bucket{le="1"',
          'gbcms_step_duration_seconds_bucket{le="5"',
          'gbcms_step_duration_seconds_sum',
          'gbcms_step_duration_seconds_count',
        ),
        [
          'gbcms_step_duration_seconds_bucket{le="1",status="success"} 1',
          'gbcms_step_duration_seconds_bucket{le="5",status="success"} 2',
          'gbcms_step_duration_seconds_sum{status="success"} 3.2',
          'gbcms_step_duration_seconds_count{status="success"} 2',
          'gbcms_step_duration_seconds_bucket{le="1",status="failure"} 1',
          'gbcms_step_duration_seconds_bucket{le="5",status="failure"} 1',
          'gbcms_step_duration_seconds_sum{status="failure"} 0.4',
          'gbcms_step_duration_seconds_count{status="failure"} 1',
        ],
      );
    } finally {
      await other.close();
    }
  });

  test('HTTP request durations are counted per route pattern and status code', async () => {
    const other = await startExternalServer();
    try {
      const get = (url: string) => other.app.inject({ method: 'GET', url });
      await get(`/api/projects/${other.publicProject.id}`);
      await get(`/api/projects/${other.publicProject.id}`);
      await get('/api/projects/missing');
      const lines = (await get('/metrics')).body.split('\n');
      assert.deepEqual(
        linesOf(lines, 'gbcms_http_request_duration_seconds_count{method="GET",route="/api/projects/:id"'),
        [
          'gbcms_http_request_duration_seconds_count{method="GET",route="/api/projects/:id",status_code="200"} 2',
          'gbcms_http_request_duration_seconds_count{method="GET",route="/api/projects/:id",status_code="404"} 1',
        ],
      );
      assert.ok(lines.includes('# TYPE gbcms_process_cpu_seconds_total counter'));
    } finally {
      await other.close();
    }
  });

  test('the step listener is removed when the app closes', async () => {
    const other = await startExternalServer();
    assert.equal(other.manager.events.listenerCount('step-ended'), 1);
    await other.app.close();
    assert.equal(other.manager.events.listenerCount('step-ended'), 0);
    await other.close();
  });
});
