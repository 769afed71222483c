// The whole server path on a real Docker engine: `gbcms serve`, a project registered on a
// bare repository, `gbcms hook install`, then a real `git push` whose post-receive hook
// notifies the server, which fetches the commit and runs its pipeline in containers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { serveCommand } from '../../server/cli/serve.ts';
import { openStore } from '../../server/store/index.ts';
import { ensureBusyboxImage } from '../helpers/build-images.ts';
import { gbcms } from '../helpers/cli.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';

const exec = promisify(execFile);
const git = (cwd: string, ...args: string[]) =>
  exec('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', ...args], { cwd });

const PIPELINE = `version: 1
name: pushed
steps:
  hello:
    image: busybox:stable
    commands:
      - echo "pushed commit $GBCMS_COMMIT on $GBCMS_BRANCH"
      - cat message.txt
  check:
    image: busybox:stable
    commands:
      - grep CapEff /proc/self/status
`;

function sink(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

describe(
  'git push to a hooked bare repository runs the pipeline on Docker',
  await dockerTestOptions(),
  () => {
    let dir: string;
    let token: string;
    let url = '';
    let exited: Promise<number> | undefined;
    const stop = new AbortController();

    before(async () => {
      await ensureBusyboxImage();
      dir = await mkdtemp(join(tmpdir(), 'gbcms-e2e-'));
      const store = await openStore(join(dir, 'data'));
      const admin = await store.users.create({ username: 'admin', role: 'admin' });
      token = (await store.tokens.create(admin.id, 'e2e')).token;
      await store.close();
      await new Promise<void>((resolve) => {
        exited = serveCommand(
          ['--port', '0', '--data', join(dir, 'data'), '--backend', 'docker', '--grace', '2s'],
          { stdout: sink(), stderr: sink(), env: {}, cwd: dir },
          {
            signal: stop.signal,
            onListening: (address) => {
              url = address;
              resolve();
            },
          },
        );
      });
    });

    after(async () => {
      stop.abort();
      assert.equal(await exited, 0);
      await rm(dir, { recursive: true, force: true });
    });

    test('push -> hook -> server -> containers -> success', async () => {
      const bare = join(dir, 'app.git');
      await exec('git', ['init', '-q', '--bare', '-b', 'main', bare]);
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const created = await fetch(`${url}/api/projects`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ name: 'app', repo: bare, visibility: 'private' }),
      });
      assert.equal(created.status, 201);
      const project = (await created.json()) as { id: string; webhook_secret: string };

      const install = await gbcms(
        ['hook', 'install', bare, '--url', url, '--project', project.id, '--secret', project.webhook_secret],
        { cwd: dir },
      );
      assert.equal(install.code, 0, install.stderr);

      const work = join(dir, 'work');
      await exec('git', ['clone', '-q', bare, work]);
      await writeFile(join(work, '.gbcms.yml'), PIPELINE);
      await writeFile(join(work, 'message.txt'), 'hello from the pushed tree\n');
      await git(work, 'checkout', '-q', '-b', 'main');
      await git(work, 'add', '.');
      await git(work, 'commit', '-q', '-m', 'add pipeline');
      const { stderr: pushOutput } = await git(work, 'push', '-q', 'origin', 'main');
      // The hook tells the pusher which execution it queued.
      assert.match(pushOutput, /gbcms: queued execution #1 for refs\/heads\/main/);
      const commit = (await git(work, 'rev-parse', 'HEAD')).stdout.trim();

      const list = (await (
        await fetch(`${url}/api/projects/${project.id}/executions`, { headers: auth })
      ).json()) as { items: Array<{ id: string }> };
      const id = list.items[0]?.id;
      assert.ok(id);
      // The events stream ends with the execution.
      const events = await (await fetch(`${url}/api/executions/${id}/events`, { headers: auth })).text();
      assert.match(events, /event: end/);

      const execution = (await (await fetch(`${url}/api/executions/${id}`, { headers: auth })).json()) as {
        status: string;
        commit_sha: string;
        ref: string;
        trigger_event: string;
        steps: Array<{ name: string; status: string }>;
        logs: string;
      };
      assert.equal(execution.status, 'success', JSON.stringify(execution));
      assert.equal(execution.commit_sha, commit);
      assert.equal(execution.ref, 'main');
      assert.equal(execution.trigger_event, 'push');
      assert.deepEqual(
        execution.steps.map((s) => [s.name, s.status]),
        [
          ['hello', 'success'],
          ['check', 'success'],
        ],
      );
      const logs = await (await fetch(`${url}${execution.logs}`, { headers: auth })).text();
      assert.match(logs, new RegExp(`\\[hello\\] pushed commit ${commit} on main`));
      assert.match(logs, /\[hello\] hello from the pushed tree/);
      assert.match(logs, /\[check\] CapEff:\t0000000000000000/);

      // A stranger sees nothing of a private project.
      assert.equal((await fetch(`${url}/api/executions/${id}`)).status, 404);
      // Nothing of the run is left on the engine.
      const left = await docker.listContainers({ all: true, filters: { label: [`gbcms.run=${id}`] } });
      assert.equal(left.length, 0);
    });
  },
);
