// Services on the real Docker engine: sidecars on an internal per-step network, reached by
// name, gone with their run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
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

  describe('the host is out of reach', () => {
    // A listener on every host address (dual-stack when the host has IPv6), counting every
    // connection it gets: the decisive check is that it got none.
    let listener: Server;
    let port = 0;
    let connections = 0;
    // Every IPv4 address of the host, bridges that are down (docker0 without containers) too,
    // which os.networkInterfaces() leaves out.
    const hostAddresses = [
      ...new Set(
        execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' })
          .split('\n')
          .flatMap((line) => /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(line)?.[1] ?? []),
      ),
    ];

    before(async () => {
      listener = createServer((socket) => {
        connections += 1;
        socket.end('reached-the-host\n');
      });
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen({ port: 0, host: '::', ipv6Only: false }, resolve);
      }).catch(
        () =>
          new Promise<void>((resolve) => {
            listener.listen({ port: 0, host: '0.0.0.0' }, resolve);
          }),
      );
      const address = listener.address();
      port = typeof address === 'object' && address ? address.port : 0;
    });

    after(() => new Promise<void>((resolve) => listener.close(() => resolve())));

    /** Tries every host address and the network's gateway; prints `reached` or `blocked` for each. */
    const probe = () => {
      const targets = [...hostAddresses, "$(ip route | awk '/default/ {print $3}')"].join(' ');
      return `for a in ${targets}; do if nc -w 2 "$a" ${port} </dev/null | grep -q reached-the-host; then echo "reached $a"; else echo "blocked $a"; fi; done`;
    };

    test('neither a step without network nor its service connects to any host address', async () => {
      assert.ok(hostAddresses.length >= 3, `host addresses: ${hostAddresses.join(', ')}`);
      const probing: Service = {
        image: BUSYBOX_IMAGE,
        // The service probes first, then serves what it found to the step.
        commands: ['mkdir -p /www', `(${probe()}) > /www/index.html`, 'httpd -f -p 8080 -h /www'],
      };
      const plan = planOf({
        test: {
          image: BUSYBOX_IMAGE,
          services: { probing },
          commands: [
            probe(),
            `for i in $(seq 1 100); do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 probing 8080 > /tmp/found || true; grep -q blocked /tmp/found && break; sleep 0.2; done`,
            'sed -n "s/^/service: /p" /tmp/found | grep -e reached -e blocked',
          ],
        },
      });
      const { record, log } = await run(plan);
      assert.equal(record.steps[0]?.status, 'success', log);
      for (const address of hostAddresses) {
        assert.match(log, new RegExp(`^blocked ${address.replaceAll('.', '\\.')}$`, 'm'), log);
        assert.match(log, new RegExp(`^service: blocked ${address.replaceAll('.', '\\.')}$`, 'm'), log);
      }
      assert.doesNotMatch(log, /^(service: )?reached /m, log);
      assert.equal(connections, 0, 'the host listener was never reached');
    });

    test('the probe is sound: a step on bridge, which may leave by choice, reaches the host', async () => {
      const plan = planOf(
        {
          test: { environment: 'online', commands: [probe()] },
        },
        { environments: { online: { image: BUSYBOX_IMAGE, network: 'bridge' } } },
      );
      const before = connections;
      const { record, log } = await run(plan);
      assert.equal(record.steps[0]?.status, 'success', log);
      assert.match(log, /^reached /m, 'network: bridge is a way out, by choice');
      assert.ok(connections > before);
    });
  });
});
