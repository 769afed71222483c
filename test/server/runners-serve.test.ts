// One `gbcms serve` and two `gbcms runner` processes, each runner with its own data folder: ten
// executions whose environment names `runs_on: [pool]` each run exactly once, on one of the
// runners, and their logs read exactly like those of the same steps run by the server itself.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { startFleet } from './helpers/runner-fleet.ts';

const EXECUTIONS = 10;

function pipeline(runsOn: string): string {
  return [
    'version: 1',
    'name: spread',
    'environments:',
    '  box:',
    `    image: ${BUSYBOX_IMAGE}`,
    runsOn,
    'steps:',
    '  count:',
    '    environment: box',
    '    commands: ["for i in 1 2 3 4 5 6 7 8; do echo line $i; done", "mkdir -p out", "echo kept > out/kept.txt"]',
    '    artifacts: [out]',
    '  source:',
    '    environment: box',
    '    depends_on: [count]',
    '    commands: ["cat greeting.txt", "cat out/kept.txt", "echo project $GBCMS_PROJECT"]',
    '',
  ].join('\n');
}

for (const backend of ['local', 'docker'] as const) {
  const options = backend === 'docker' ? await dockerTestOptions() : { skip: false as const };

  describe(`runners on ${backend}`, options, () => {
    const cleanups = cleanUpAfterAll();

    test(`${EXECUTIONS} executions spread over two runners, each run once, logs as on the server`, async () => {
      if (backend === 'docker') await ensureBusyboxImage();
      const fleet = await startFleet(cleanups, { backend, runners: { r1: ['pool'], r2: ['pool'] } });
      const r1 = fleet.runner('r1', { capacity: 2 });
      const r2 = fleet.runner('r2', { capacity: 2 });
      // The same steps, run by the server itself (no runs_on) and by the runners: the project
      // names differ, so its name is read from the source file rather than from the variable.
      const here = await fleet.project('spread', pipeline(''));
      const there = await fleet.project('spread-remote', pipeline('    runs_on: [pool]'));

      const local = await fleet.ended(await fleet.start(here));
      assert.equal(local.status, 'success', `${local.reason} ${JSON.stringify(local.steps)}`);
      assert.equal(local.runner, null);
      const ids: string[] = [];
      for (let i = 0; i < EXECUTIONS; i++) ids.push(await fleet.start(there));
      const ended = [];
      for (const id of ids) ended.push(await fleet.ended(id));

      const expected = (await fleet.logs(local.id)).replaceAll("spread's source", "spread-remote's source");
      assert.match(expected, /\[count\] line 8\n/);
      for (const execution of ended) {
        assert.equal(execution.status, 'success', `${execution.id}: ${execution.reason}`);
        assert.ok(execution.runner === 'r1' || execution.runner === 'r2', String(execution.runner));
        assert.equal(
          (await fleet.logs(execution.id)).replace('project spread-remote', 'project spread'),
          expected,
        );
        const artifact = await fleet.api(`/api/executions/${execution.id}/artifacts/count/out/kept.txt`);
        assert.equal(await artifact.text(), 'kept\n');
      }
      // Exactly once: each execution was started by one runner, one time.
      const output = r1.output() + r2.output();
      for (const id of ids) {
        assert.equal(output.split(`(${id})`).length - 1, 1, `${id} in:\n${output}`);
      }

      const listed = (await (await fleet.api('/api/runners')).json()) as {
        items: { name: string; connected: boolean; running: string[]; labels: string[]; capacity: number }[];
      };
      assert.deepEqual(
        listed.items
          .map((r) => [r.name, r.connected, r.running, r.labels, r.capacity])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        [
          ['r1', true, [], ['pool'], 2],
          ['r2', true, [], ['pool'], 2],
        ],
      );

      for (const runner of [r1, r2]) runner.child.kill('SIGTERM');
      for (const runner of [r1, r2]) assert.equal((await runner.exited)[0], 0, runner.output());
      fleet.server.child.kill('SIGTERM');
      assert.equal((await fleet.server.exited)[0], 0, fleet.server.output());
    });
  });
}
