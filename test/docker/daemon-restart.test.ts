// A Docker daemon that stops or restarts mid-step is the engine's fault, not the developer's:
// the step ends `error` saying the daemon stopped it, and what the run could not remove while
// the daemon was away goes later, at the next `gbcms run` or by the server's leftover sweep.
// The daemon restarted here is a private one (test/helpers/private-dockerd.ts), never the
// shared engine.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { LABEL_MANAGED, LABEL_ROLE, labelFilter } from '../../engine/backends/docker/labels.ts';
import type { RunRecord } from '../../engine/run-record.ts';
import { openStore } from '../../server/store/index.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { pollUntil } from '../helpers/poll.ts';
import {
  type PrivateDockerd,
  privateDockerdUnavailable,
  startPrivateDockerd,
} from '../helpers/private-dockerd.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'gbcms.js');
const DAEMON_REASON = /Docker daemon/;

const unavailable = privateDockerdUnavailable();
if (unavailable !== undefined && process.env.GBCMS_REQUIRE_DOCKER === '1') {
  throw new Error(`GBCMS_REQUIRE_DOCKER=1 but a private Docker engine cannot start here: ${unavailable}`);
}
const options = unavailable === undefined ? await dockerTestOptions() : { skip: unavailable };

interface Child {
  child: ChildProcess;
  exited: Promise<unknown[]>;
  output(): string;
}

function start(args: string[], cwd: string, env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  let text = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
  }
  return { child, exited, output: () => text };
}

/** Everything of gbcms's on the daemon (cache volumes aside: the pipelines here keep none). */
async function gbcmsResources(docker: Docker): Promise<string[]> {
  const filters = labelFilter(LABEL_MANAGED, 'true');
  return [
    ...(await docker.listContainers({ all: true, filters })).map((c) => `container ${c.Names[0]}`),
    ...((await docker.listVolumes({ filters })).Volumes ?? []).map((v) => `volume ${v.Name}`),
    ...(await docker.listNetworks({ filters })).map((n) => `network ${n.Name}`),
  ];
}

async function stepRunning(docker: Docker): Promise<boolean> {
  const running = await docker
    .listContainers({ filters: labelFilter(LABEL_ROLE, 'step') })
    .catch(() => [] as Docker.ContainerInfo[]);
  return running.length > 0;
}

function pipeline(marker: string): string {
  return [
    'version: 1',
    'name: daemon',
    'steps:',
    '  wait:',
    `    image: ${BUSYBOX_IMAGE}`,
    `    commands: ["echo ${marker}", "sleep 600"]`,
    '',
  ].join('\n');
}

const QUICK = [
  'version: 1',
  'name: quick',
  'steps:',
  '  ok:',
  `    image: ${BUSYBOX_IMAGE}`,
  '    commands: ["true"]',
  '',
];

describe('a Docker daemon restart mid-step', options, () => {
  let daemon: PrivateDockerd;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    await ensureBusyboxImage();
    daemon = await startPrivateDockerd([BUSYBOX_IMAGE]);
    dir = await mkdtemp(join(tmpdir(), 'gbcms-daemon-restart-'));
    env = { ...process.env, DOCKER_HOST: daemon.host, CI: 'true' };
  });
  after(async () => {
    await daemon?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** `gbcms run` of the sleeping step, the daemon stopped under it; its record, once it ended. */
  async function runThroughStop(project: string, stop: () => Promise<void>): Promise<RunRecord> {
    // Running, whatever an earlier test did to it.
    await daemon.start();
    await mkdir(project, { recursive: true });
    await writeFile(join(project, '.gbcms.yml'), pipeline(`marker-${randomBytes(4).toString('hex')}`));
    const run = start(['run', '--backend', 'docker', '--json'], project, env);
    await pollUntil('the step to run', () => stepRunning(daemon.docker));
    await stop();
    const [code] = await run.exited;
    assert.equal(code, 2, run.output());
    const json = run.output().slice(run.output().indexOf('{\n'));
    return JSON.parse(json) as RunRecord;
  }

  test('the step ends error, saying the daemon stopped it; the next run leaves nothing', async () => {
    const project = join(dir, 'restart');
    const record = await runThroughStop(project, () => daemon.stop());
    const [step] = record.steps;
    assert.equal(step?.status, 'error', JSON.stringify(step));
    assert.match(step?.reason ?? '', DAEMON_REASON);
    assert.equal(record.status, 'error');

    await daemon.start();
    await writeFile(join(project, '.gbcms.yml'), QUICK.join('\n'));
    const next = start(['run', '--backend', 'docker'], project, env);
    const [code] = await next.exited;
    assert.equal(code, 0, next.output());
    assert.deepEqual(await gbcmsResources(daemon.docker), []);
  });

  test('gbcms run removes what an earlier run could not, once the daemon is back', async () => {
    const project = join(dir, 'leftover');
    const record = await runThroughStop(project, () => daemon.stop({ closeSocketAtOnce: true }));
    assert.equal(record.steps[0]?.status, 'error');
    assert.match(record.steps[0]?.reason ?? '', DAEMON_REASON);

    await daemon.start();
    const left = await gbcmsResources(daemon.docker);
    assert.ok(
      left.some((resource) => resource.startsWith('volume ')),
      `left: ${left}`,
    );

    await writeFile(join(project, '.gbcms.yml'), QUICK.join('\n'));
    const next = start(['run', '--backend', 'docker'], project, env);
    const [code] = await next.exited;
    assert.equal(code, 0, next.output());
    assert.match(next.output(), new RegExp(`removed what run ${record.id} left on docker`));
    assert.deepEqual(await gbcmsResources(daemon.docker), []);
  });

  test("the server's leftover sweep removes what an ended execution could not", async () => {
    await daemon.start();
    const data = join(dir, 'data');
    const repo = join(dir, 'repo');
    await mkdir(repo);
    await writeFile(join(repo, '.gbcms.yml'), pipeline('served'));
    const store = await openStore(data);
    const admin = await store.users.create({ username: 'admin', role: 'admin' });
    const { token } = await store.tokens.create(admin.id, 'test');
    await store.close();
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const server = start(
      [
        'serve',
        '--port',
        '0',
        '--data',
        data,
        '--backend',
        'docker',
        '--leftover-sweep',
        '1s',
        '--log-level',
        'info',
      ],
      dir,
      env,
    );
    try {
      const url = await pollUntil('the server to listen', () => {
        if (server.child.exitCode !== null) throw new Error(`gbcms serve ended:\n${server.output()}`);
        return /listening on (http:\/\/\S+)/.exec(server.output())?.[1];
      });
      const project = await (
        await fetch(`${url}/api/projects`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ name: 'daemon', repo, visibility: 'public' }),
        })
      ).json();
      const started = await fetch(`${url}/api/executions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ project_id: project.id }),
      });
      assert.equal(started.status, 201);
      const { id } = (await started.json()) as { id: string };
      await pollUntil('the step to run', () => stepRunning(daemon.docker));

      await daemon.stop({ closeSocketAtOnce: true });
      const ended = await pollUntil('the execution to end', async () => {
        const view = (await (await fetch(`${url}/api/executions/${id}`, { headers: auth })).json()) as {
          status: string;
          steps: Array<{ status: string; reason: string | null }>;
        };
        return view.status !== 'running' && view;
      });
      assert.equal(ended.status, 'error');
      assert.equal(ended.steps[0]?.status, 'error');
      assert.match(ended.steps[0]?.reason ?? '', DAEMON_REASON);

      await daemon.start();
      await pollUntil('the sweep to remove the leftovers', async () =>
        /"removed":1,.*removed executions' leftovers/.test(server.output()),
      );
      assert.deepEqual(await gbcmsResources(daemon.docker), []);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
