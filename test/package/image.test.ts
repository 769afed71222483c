// The server image for real: the Dockerfile is built from the packed clone on the local
// node:20-bookworm-slim (a stand-in for the registry's, see test/helpers/build-images.ts), then
// started with the host's Docker socket mounted. Checked: its HEALTHCHECK turns healthy,
// /healthz answers on the published port, `docker exec ... gbcms token` makes a token the
// API accepts, and an execution runs its steps as containers through the mounted socket.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { FINISHED_STATUSES, type StepStatus } from '../../engine/status.ts';
import { NODE_IMAGE } from '../helpers/build-images.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { HANG_MS, pollUntil } from '../helpers/poll.ts';
import { packClone, REPO } from './installed.ts';

const run = promisify(execFile);
const SOCKET = '/var/run/docker.sock';
const unique = `${process.pid}-${Date.now().toString(36)}`;
const TAG = `gbcms-image-test:${unique}`;
const CONTAINER = `gbcms-image-test-${unique}`;

const PIPELINE = `version: 1
name: in-image
steps:
  hello:
    image: busybox:stable
    commands:
      - echo "step ran through the mounted socket"
`;

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { timeout: HANG_MS, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/**
 * Waits for the server in `container` to say it listens. Polling the published port before
 * then would not do: docker-proxy accepts the connection and holds it while nothing listens
 * behind it, and Node's fetch waits on it without keeping the test's event loop alive.
 */
async function listening(container: string): Promise<void> {
  await pollUntil(`gbcms serve in ${container} to listen`, async () => {
    const { stdout, stderr } = await run('docker', ['logs', container], { maxBuffer: 64 * 1024 * 1024 });
    return /gbcms serve: listening on/.test(stdout + stderr);
  });
}

/**
 * The clone's better-sqlite3 build, shaped as the prebuilt archive its installer looks for: the
 * image build has no GitHub to download one from, and the stand-in base image has no compiler.
 */
function prebuiltSqlite(dir: string, version: string): Promise<unknown> {
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-linux-${process.arch}.tar.gz`;
  mkdirSync(dir, { recursive: true });
  return run('tar', [
    '-czf',
    join(dir, name),
    '-C',
    join(REPO, 'node_modules', 'better-sqlite3'),
    'build/Release/better_sqlite3.node',
  ]);
}

describe('the server image', await dockerTestOptions(), () => {
  let context: string;
  let version: string;
  let url: string;

  before(async () => {
    context = mkdtempSync(join(tmpdir(), 'gbcms-image-'));
    const tarball = await packClone(context);
    version = /^gbcms-(.+)\.tgz$/.exec(basename(tarball))?.[1] ?? '';
    const sqlite = (
      await import(join(REPO, 'node_modules', 'better-sqlite3', 'package.json'), { with: { type: 'json' } })
    ).default as { version: string };
    await prebuiltSqlite(join(context, 'prebuilds'), sqlite.version);
    copyFileSync(join(REPO, 'Dockerfile'), join(context, 'Dockerfile'));
    copyFileSync(join(REPO, '.dockerignore'), join(context, '.dockerignore'));
    await docker(
      'build',
      '--quiet',
      '--build-arg',
      `NODE_IMAGE=${NODE_IMAGE}`,
      '--build-arg',
      `GBCMS_VERSION=${version}`,
      '--label',
      'gbcms.test-image=true',
      '-t',
      TAG,
      context,
    );
    await docker(
      'run',
      '--detach',
      '--name',
      CONTAINER,
      '--label',
      'gbcms.test=image',
      '--publish',
      '127.0.0.1::8080',
      '--volume',
      `${SOCKET}:${SOCKET}`,
      // The socket's group on this host, so the image's non-root user may use it.
      '--group-add',
      String(statSync(SOCKET).gid),
      TAG,
    );
    const port = (await docker('port', CONTAINER, '8080/tcp')).split('\n')[0]?.split(':').pop();
    url = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    const logs = await docker('logs', CONTAINER).catch(() => '');
    if (process.env.GBCMS_TEST_VERBOSE) console.log(logs);
    await docker('rm', '--force', '--volumes', CONTAINER).catch(() => undefined);
    await docker('rmi', '--force', TAG).catch(() => undefined);
    if (context) rmSync(context, { recursive: true, force: true });
  });

  test('carries its version in a label and runs as a non-root user with a data volume', async () => {
    const config = JSON.parse(await docker('image', 'inspect', '--format', '{{json .Config}}', TAG)) as {
      Labels: Record<string, string>;
      User: string;
      Volumes: Record<string, unknown>;
    };
    assert.equal(config.Labels['org.opencontainers.image.version'], version);
    assert.equal(config.User, '10001:10001');
    assert.deepEqual(Object.keys(config.Volumes), ['/var/lib/gbcms']);
    assert.equal(await docker('exec', CONTAINER, 'gbcms', '--version'), version);
  });

  test('answers /healthz and turns healthy by its HEALTHCHECK', async () => {
    await listening(CONTAINER);
    const health = await pollUntil('/healthz on the published port', async () => {
      const answer = await fetch(`${url}/healthz`).catch(() => undefined);
      return answer?.ok ? answer : undefined;
    });
    assert.deepEqual(await health.json(), { status: 'ok', version });
    const status = await pollUntil('the container to turn healthy', async () => {
      const state = await docker('inspect', '--format', '{{.State.Health.Status}}', CONTAINER);
      return state === 'starting' ? undefined : state;
    });
    assert.equal(status, 'healthy');
  });

  test('a token made with docker exec starts an execution whose step runs through the mounted socket', async () => {
    const token = await docker('exec', CONTAINER, 'gbcms', 'token', 'create', '--role', 'admin');
    assert.equal(
      (await fetch(`${url}/api/tokens`, { headers: { authorization: `Bearer ${token}` } })).status,
      200,
    );

    const pipeline = join(context, 'pipeline.yml');
    writeFileSync(pipeline, PIPELINE);
    await docker('exec', CONTAINER, 'mkdir', '-p', '/var/lib/gbcms/source');
    await docker('cp', pipeline, `${CONTAINER}:/var/lib/gbcms/source/.gbcms.yml`);
    const created = await docker(
      'exec',
      CONTAINER,
      'gbcms',
      'project',
      'create',
      'demo',
      '--repo',
      '/var/lib/gbcms/source',
    );
    const projectId = /^id:\s+(\S+)/m.exec(created)?.[1];
    assert.ok(projectId, `a project id in:\n${created}`);

    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const started = await fetch(`${url}/api/executions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ project_id: projectId }),
    });
    assert.equal(started.status, 201, await started.clone().text());
    const { id } = (await started.json()) as { id: string };
    const finished = await pollUntil('the execution to finish', async () => {
      const execution = (await (await fetch(`${url}/api/executions/${id}`, { headers })).json()) as {
        status: StepStatus;
      };
      return FINISHED_STATUSES.has(execution.status) ? execution : undefined;
    });
    assert.equal(finished.status, 'success', JSON.stringify(finished));
    const logs = await (await fetch(`${url}/api/executions/${id}/logs?step=hello`, { headers })).text();
    assert.match(logs, /step ran through the mounted socket/);
  });

  test('compose.yaml: docker-compose resolves it and brings the same image up healthy, then down', async () => {
    const project = `gbcms-compose-test-${unique}`;
    const [repository, tag] = TAG.split(':') as [string, string];
    const env = {
      ...process.env,
      GBCMS_IMAGE: repository,
      GBCMS_VERSION: tag,
      DOCKER_GID: String(statSync(SOCKET).gid),
      GBCMS_LISTEN: '127.0.0.1:',
      GBCMS_URL: 'http://ci.example.com',
    };
    const compose = (...args: string[]) =>
      run('docker-compose', ['--project-name', project, '--file', join(REPO, 'compose.yaml'), ...args], {
        env,
        timeout: HANG_MS,
      }).then(({ stdout }) => stdout.trim());
    const config = await compose('config');
    assert.match(config, new RegExp(`image: ${TAG}`));
    assert.match(config, /group_add:\n\s+- '?\d+'?/);
    assert.match(config, /gbcms-data:\/var\/lib\/gbcms/);
    try {
      await compose('up', '--detach', '--no-build');
      const port = (await compose('port', 'gbcms', '8080')).split(':').pop();
      const container = await compose('ps', '--quiet', 'gbcms');
      await listening(container);
      const health = await pollUntil('/healthz of the composed server', async () => {
        const answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return answer?.ok ? answer : undefined;
      });
      assert.equal(((await health.json()) as { status: string }).status, 'ok');
      const status = await pollUntil('the composed container to turn healthy', async () => {
        const state = await docker('inspect', '--format', '{{.State.Health.Status}}', container);
        return state === 'starting' ? undefined : state;
      });
      assert.equal(status, 'healthy');
      assert.equal(await compose('exec', '-T', 'gbcms', 'gbcms', '--version'), version);
    } finally {
      await compose('down', '--volumes');
    }
    assert.equal(
      await docker('ps', '--all', '--quiet', '--filter', `label=com.docker.compose.project=${project}`),
      '',
    );
  });
});
