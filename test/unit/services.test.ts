// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${{ matrix.X }} in plain strings
// Services, without Docker: what lint accepts and refuses, what the plan carries, the pure
// container and network options, and the local backend's refusal.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { stepContainerOptions } from '../../engine/backends/docker/convert.ts';
import {
  SERVICE_CAPABILITIES,
  serviceContainerOptions,
  serviceNetworkName,
  serviceNetworkOptions,
} from '../../engine/backends/docker/convert-services.ts';
import { LocalBackend } from '../../engine/backends/local/backend.ts';
import type { RunContext } from '../../engine/backends/types.ts';
import { readLogFile } from '../../engine/logs/log-line.ts';
import { lintPipelineSource } from '../../engine/pipeline.ts';
import type { PlannedService } from '../../engine/plan.ts';
import { runPipeline } from '../../engine/run.ts';
import { planOf, tempDir } from '../helpers/plans.ts';

function lint(source: string): string[] {
  return lintPipelineSource(source, 'p.yml').diagnostics.map(
    (d) => `${d.line}:${d.col} ${d.code} ${d.message}`,
  );
}

const withServices = (services: string, extra = '') =>
  `version: 1\n${extra}steps:\n  a:\n    image: x\n    commands: [x]\n    services:\n${services}\n`;

describe('services: lint', () => {
  test('an image or an environment, with commands and env', () => {
    const source = withServices(
      '      web: {image: busybox:stable, commands: [httpd -f], env: {A: 1}}\n      db: {environment: pg}',
      'environments:\n  pg: {image: postgres:16}\n',
    );
    assert.deepEqual(lint(source), []);
  });

  test('a service named like a step is fine', () => {
    assert.deepEqual(lint(withServices('      a: {image: busybox}')), []);
  });

  test('names are DNS labels', () => {
    assert.deepEqual(lint(withServices('      Web_1: {image: busybox}')), [
      "7:7 GBCMS_SCHEMA_NAME steps.a.services.Web_1: 'Web_1' is not a valid service name: use lower-case letters, digits and '-' (a DNS label), not starting or ending with '-', at most 63 characters",
    ]);
  });

  test('both or neither of image and environment, an unknown environment, unknown keys', () => {
    const source = withServices(
      [
        '      both: {image: x, environment: pg}',
        '      neither: {commands: [x]}',
        '      lost: {environment: pq}',
        '      odd: {image: x, ports: [80]}',
      ].join('\n'),
      'environments:\n  pg: {image: postgres:16}\n',
    );
    assert.deepEqual(lint(source), [
      "9:14 GBCMS_SERVICE_IMAGE steps.a.services.both.image: has both 'environment' and 'image'; keep one",
      "10:7 GBCMS_SERVICE_IMAGE steps.a.services.neither: does not say what runs: add 'image: NAME' or 'environment: NAME'",
      "11:27 GBCMS_SERVICE_UNKNOWN_ENVIRONMENT steps.a.services.lost.environment: environment 'pq' is not defined",
      "12:23 GBCMS_SCHEMA_UNKNOWN_KEY steps.a.services.odd.ports: unknown key 'ports' (allowed: image, environment, commands, env)",
    ]);
  });

  test('at most 8 services', () => {
    const nine = Array.from({ length: 9 }, (_, i) => `      s${i}: {image: x}`).join('\n');
    assert.deepEqual(lint(withServices(nine)), [
      '7:7 GBCMS_SCHEMA_RANGE steps.a.services: has more than 8 entries',
    ]);
  });
});

describe('services: compile', () => {
  test('each service gets a resolved environment, its env over the environment env, and its commands', () => {
    const plan = planOf(
      {
        test: {
          image: 'busybox',
          commands: ['x'],
          matrix: { PG: ['16'] },
          services: {
            web: { image: 'nginx:${{ matrix.PG }}' },
            db: { environment: 'pg', commands: ['run ${{ matrix.PG }}'], env: { B: 'svc', N: 3 } },
          },
        },
      },
      { environments: { pg: { image: 'postgres:16', user: '999', env: { A: 'env', B: 'env' } } } },
    );
    const services = plan.steps[0]?.services;
    assert.ok(services);
    const [web, db] = services;
    assert.equal(web?.name, 'web');
    assert.equal(web?.environment.image, 'nginx:16');
    assert.equal(web?.userSet, false);
    assert.equal(web?.commands, undefined);
    assert.deepEqual(web?.env, {});
    assert.equal(db?.environment.name, 'pg');
    assert.equal(db?.userSet, true);
    assert.equal(db?.environment.user, '999');
    assert.deepEqual(db?.commands, ['run 16']);
    assert.deepEqual(db?.env, { A: 'env', B: 'svc', N: '3' });
  });

  test('a step without services has none in its plan', () => {
    const plan = planOf({ test: { image: 'busybox', commands: ['x'] } });
    assert.equal(plan.steps[0]?.services, undefined);
  });
});

const RUN_ID = 'AbCdEf_-1234567890xyz';
const STEP = { name: 'test (node=20)', slug: 'test-node-20' };

function service(overrides: Partial<PlannedService> = {}): PlannedService {
  const plan = planOf({
    test: { image: 'busybox', commands: ['x'], services: { web: { image: 'nginx:1' } } },
  });
  const planned = plan.steps[0]?.services?.[0];
  assert.ok(planned);
  return { ...planned, ...overrides };
}

describe('services: docker options', () => {
  test('the network is internal and labelled with run and step', () => {
    const options = serviceNetworkOptions(RUN_ID, STEP, 2);
    assert.equal(options.Name, serviceNetworkName(RUN_ID, STEP, 2));
    assert.match(options.Name, /^gbcms-AbCdEf_-1234-test-node-20-[0-9a-f]{6}-2-net$/);
    assert.equal(options.Internal, true);
    assert.deepEqual(options.Options, { 'com.docker.network.bridge.inhibit_ipv4': 'true' });
    assert.deepEqual(options.Labels, {
      'gbcms.managed': 'true',
      'gbcms.run': RUN_ID,
      'gbcms.role': 'network',
      'gbcms.step': 'test (node=20)',
    });
  });

  test('a service container: alias on the network, hardened but able to drop to its own user', () => {
    const options = serviceContainerOptions({
      runId: RUN_ID,
      step: { name: 'test', slug: 'test' },
      attempt: 1,
      service: service({ env: { A: '1' } }),
      image: 'sha256:abc',
      network: 'net-x',
    });
    assert.equal(options.Image, 'sha256:abc');
    assert.equal(options.Entrypoint, undefined, "the image's own entrypoint runs");
    assert.equal(options.Cmd, undefined);
    assert.equal(options.User, undefined, "the image's own user");
    assert.deepEqual(options.Env, ['A=1']);
    assert.equal(options.Hostname, 'web');
    assert.deepEqual(options.NetworkingConfig, { EndpointsConfig: { 'net-x': { Aliases: ['web'] } } });
    assert.equal(options.Labels?.['gbcms.run'], RUN_ID);
    assert.equal(options.Labels?.['gbcms.role'], 'service');
    assert.equal(options.Labels?.['gbcms.service'], 'web');
    const host = options.HostConfig;
    assert.equal(host?.NetworkMode, 'net-x');
    assert.deepEqual(host?.CapDrop, ['ALL']);
    assert.deepEqual(host?.CapAdd, [...SERVICE_CAPABILITIES]);
    assert.deepEqual(host?.SecurityOpt, ['no-new-privileges']);
    assert.equal(host?.Privileged, false);
    assert.equal(host?.ReadonlyRootfs, false);
    assert.equal(host?.Init, true);
    assert.equal(host?.Memory, 2 * 1024 ** 3);
    assert.equal(host?.PidsLimit, 1024);
    assert.deepEqual(host?.LogConfig, { Type: 'none', Config: {} });
  });

  test('commands run under sh -ec; a user set by the environment is kept', () => {
    const base = service();
    const options = serviceContainerOptions({
      runId: RUN_ID,
      step: { name: 'test', slug: 'test' },
      attempt: 1,
      service: {
        ...base,
        commands: ['httpd -f'],
        userSet: true,
        environment: { ...base.environment, user: '70' },
      },
      image: 'i',
      network: 'n',
    });
    assert.deepEqual(options.Entrypoint, []);
    assert.deepEqual(options.Cmd?.slice(0, 2), ['/bin/sh', '-ec']);
    assert.equal(options.User, '70');
  });

  test('the step joins the services network when it has no network, and keeps bridge otherwise', () => {
    const plan = planOf(
      {
        quiet: { image: 'busybox', commands: ['x'], services: { web: { image: 'nginx' } } },
        online: { environment: 'net', commands: ['x'], services: { web: { image: 'nginx' } } },
      },
      { environments: { net: { image: 'busybox', network: 'bridge' } } },
    );
    const run: RunContext = { id: RUN_ID, plan, dir: '/tmp/r', secrets: {}, env: {}, notice: () => {} };
    const [quiet, online] = plan.steps;
    assert.ok(quiet && online);
    const input = { run, image: 'i', volume: 'v', attempt: 1, serviceNetwork: 'svc-net' };
    const quietOptions = stepContainerOptions({ ...input, step: quiet });
    assert.equal(quietOptions.HostConfig?.NetworkMode, 'svc-net');
    assert.equal(quietOptions.NetworkDisabled, false);
    const onlineOptions = stepContainerOptions({ ...input, step: online });
    assert.equal(onlineOptions.HostConfig?.NetworkMode, 'bridge');
    const { serviceNetwork: _, ...alone } = input;
    const aloneOptions = stepContainerOptions({ ...alone, step: quiet });
    assert.equal(aloneOptions.HostConfig?.NetworkMode, 'none');
    assert.equal(aloneOptions.NetworkDisabled, true);
  });
});

describe('services: local backend', () => {
  test('a step with services is an error that names the docker backend', async () => {
    const runsDir = tempDir();
    const plan = planOf({
      test: { image: 'ignored', commands: ['echo ran'], services: { web: { image: 'nginx' } } },
    });
    const record = await runPipeline(plan, {
      backend: new LocalBackend({ sandbox: false }),
      runsDir,
      graceMs: 500,
    });
    const [step] = record.steps;
    assert.equal(step?.status, 'error');
    const log = (await readLogFile(join(runsDir, record.id, step?.log ?? ''))).map((l) => l.text).join('\n');
    assert.doesNotMatch(log, /^ran$/m);
    assert.match(`${step?.reason ?? ''}\n${log}`, /services need the docker backend/);
  });
});
