// Services on the real Docker engine: sidecars on an internal per-step network, reached by
// name, gone with their run.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { LABEL_ROLE, LABEL_RUN, labelFilter } from '../../engine/backends/docker/labels.ts';
import type { RunContext } from '../../engine/backends/types.ts';
import type { Service } from '../../engine/config/pipeline-file.generated.ts';
import { readLogFile } from '../../engine/logs/log-line.ts';
import type { Plan, PlannedStep } from '../../engine/plan.ts';
import { runPipeline } from '../../engine/run.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { planOf, tempDir } from '../helpers/plans.ts';

const WEB = {
  image: BUSYBOX_IMAGE,
  commands: ['mkdir -p /www', 'echo hello-from-web > /www/index.html', 'httpd -f -p 8080 -h /www'] as [
    string,
    ...string[],
  ],
};

// The service may still be starting when the step begins: try for a few seconds.
const FETCH: [string, ...string[]] = [
  `for i in $(seq 1 50); do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 web 8080 > /tmp/out || true; grep -q hello-from-web /tmp/out && exit 0; sleep 0.2; done; exit 1`,
];

/** Inspects the run's networks while the step runs, before cleanup removes them. */
class InspectingBackend extends DockerBackend {
  readonly networks: Array<{ name: string; internal: boolean; labels: Record<string, string> }> = [];

  override async startStep(step: PlannedStep, run: RunContext): Promise<void> {
    await super.startStep(step, run);
    for (const network of await docker.listNetworks({ filters: labelFilter(LABEL_RUN, run.id) })) {
      this.networks.push({ name: network.Name, internal: network.Internal, labels: network.Labels ?? {} });
    }
  }
}

async function run(plan: Plan) {
  const runsDir = tempDir();
  const backend = new InspectingBackend({ docker });
  const record = await runPipeline(plan, { backend, runsDir, graceMs: 500 });
  const log = (await readLogFile(join(runsDir, record.id, record.steps[0]?.log ?? '')))
    .map((l) => l.text)
    .join('\n');
  return { record, log, networks: backend.networks };
}

async function leftovers(runId: string): Promise<number> {
  const filters = labelFilter(LABEL_RUN, runId);
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return containers.length + networks.length;
}

describe('docker backend: services', await dockerTestOptions(), () => {
  before(async () => {
    await ensureBusyboxImage();
  });

  test('a step without network reaches its service by name on an internal network, and nothing is left', async () => {
    const plan = planOf({ test: { image: BUSYBOX_IMAGE, services: { web: WEB }, commands: FETCH } });
    const { record, log, networks } = await run(plan);
    assert.equal(record.steps[0]?.status, 'success', log);
    assert.equal(networks.length, 1);
    assert.equal(networks[0]?.internal, true);
    assert.equal(networks[0]?.labels[LABEL_ROLE], 'network');
    assert.equal(await leftovers(record.id), 0);
  });

  test('a step on bridge still reaches its service', async () => {
    const plan = planOf(
      { test: { environment: 'online', services: { web: WEB }, commands: FETCH } },
      { environments: { online: { image: BUSYBOX_IMAGE, network: 'bridge' } } },
    );
    const { record, log } = await run(plan);
    assert.equal(record.steps[0]?.status, 'success', log);
    assert.equal(await leftovers(record.id), 0);
  });

  test('a service gets its env, and a step can use two services', async () => {
    const greeter: Service = {
      image: BUSYBOX_IMAGE,
      env: { GREETING: 'hello-from-env' },
      commands: ['mkdir -p /www', 'echo "$GREETING" > /www/index.html', 'httpd -f -p 8080 -h /www'],
    };
    const fetchFrom = (host: string, text: string) =>
      `for i in $(seq 1 50); do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} 8080 > /tmp/${host} || true; grep -q ${text} /tmp/${host} && break; sleep 0.2; done; grep ${text} /tmp/${host}`;
    const plan = planOf({
      test: {
        image: BUSYBOX_IMAGE,
        services: { web: WEB, greeter },
        commands: [fetchFrom('web', 'hello-from-web'), fetchFrom('greeter', 'hello-from-env')],
      },
    });
    const { record, log } = await run(plan);
    assert.equal(record.steps[0]?.status, 'success', log);
    assert.match(log, /^hello-from-env$/m);
  });
});
