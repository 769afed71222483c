// `gbcms serve` killed with SIGKILL while a step runs, then started again on the same data
// folder: the execution ends `error` ("engine restarted") and nothing of it is left, neither in
// the temp folder (local backend) nor on the Docker engine, through Backend.destroyRun alone.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LABEL_RUN, labelFilter } from '../../engine/backends/docker/labels.ts';
import { openStore } from '../../server/store/index.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { pollUntil, processesWith } from '../helpers/poll.ts';
import { type Served, serveProcess } from './helpers/serve-process.ts';

interface StepView {
  name: string;
  status: string;
  reason: string | null;
}

interface ExecutionView {
  id: string;
  status: string;
  reason: string | null;
  steps: StepView[];
}

for (const backend of ['local', 'docker'] as const) {
  const options = backend === 'docker' ? await dockerTestOptions() : { skip: false as const };

  describe(`gbcms serve --backend ${backend} after kill -9`, options, () => {
    let dir: string;
    let token: string;
    const servers: Served[] = [];

    before(async () => {
      if (backend === 'docker') await ensureBusyboxImage();
      dir = await mkdtemp(join(tmpdir(), 'gbcms-crash-serve-'));
      const store = await openStore(join(dir, 'data'));
      const admin = await store.users.create({ username: 'admin', role: 'admin' });
      token = (await store.tokens.create(admin.id, 'test')).token;
      await store.close();
      await mkdir(join(dir, 'tmp'));
      await mkdir(join(dir, 'repo'));
    });
    after(async () => {
      for (const server of servers) server.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });

    test('recovery ends the execution and removes everything it left', async () => {
      const marker = `gbcms-crash-${randomBytes(6).toString('hex')}`;
      await writeFile(
        join(dir, 'repo', '.gbcms.yml'),
        [
          'version: 1',
          'name: crash',
          'steps:',
          '  wait:',
          `    image: ${BUSYBOX_IMAGE}`,
          `    commands: ["echo ${marker}", "sleep 600"]`,
          '  next:',
          `    image: ${BUSYBOX_IMAGE}`,
          '    depends_on: [wait]',
          '    commands: ["true"]',
          '',
        ].join('\n'),
      );
      const env = { ...process.env, TMPDIR: join(dir, 'tmp') };
      const data = join(dir, 'data');
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

      const first = await serveProcess(data, backend, env);
      servers.push(first);
      const project = await (
        await fetch(`${first.url}/api/projects`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ name: 'crash', repo: join(dir, 'repo'), visibility: 'public' }),
        })
      ).json();
      const started = await fetch(`${first.url}/api/executions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ project_id: project.id }),
      });
      assert.equal(started.status, 201);
      const { id } = (await started.json()) as ExecutionView;
      await pollUntil('the step to run', async () => {
        const logs = await fetch(`${first.url}/api/executions/${id}/logs?step=wait`, { headers: auth });
        return logs.ok && (await logs.text()).split('\n').includes(marker);
      });

      first.child.kill('SIGKILL');
      await first.exited;
      const leftovers = async () =>
        backend === 'local'
          ? (await readdir(join(dir, 'tmp'))).filter((entry) => entry.startsWith('gbcms-'))
          : [
              ...(await docker.listContainers({ all: true, filters: labelFilter(LABEL_RUN, id) })).map(
                (c) => c.Id,
              ),
              ...((await docker.listVolumes({ filters: labelFilter(LABEL_RUN, id) })).Volumes ?? []).map(
                (v) => v.Name,
              ),
            ];
      const left = await leftovers();
      assert.ok(left.length > 0, 'the crash left the run behind');
      if (backend === 'local')
        assert.ok(
          left.every((entry) => entry.startsWith(`gbcms-local-${id}.`)),
          `${left}`,
        );

      const second = await serveProcess(data, backend, env);
      servers.push(second);
      const ended = await pollUntil('recovery to end the execution', async () => {
        const view = (await (
          await fetch(`${second.url}/api/executions/${id}`, { headers: auth })
        ).json()) as ExecutionView;
        return view.status !== 'running' && view;
      });
      assert.equal(ended.status, 'error');
      assert.equal(ended.reason, 'engine restarted');
      assert.deepEqual(
        ended.steps.map((step) => [step.name, step.status, step.reason]),
        [
          ['wait', 'error', 'engine restarted'],
          ['next', 'error', 'engine restarted'],
        ],
      );
      assert.deepEqual(await leftovers(), []);
      await pollUntil(
        'the step processes to end',
        async () => (await processesWith(marker, '')).length === 0,
      );

      second.child.kill('SIGTERM');
      const [code] = await second.exited;
      assert.equal(code, 0, second.output());
    });
  });
}
