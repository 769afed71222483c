// `network:` for real: a service container (started with testcontainers) answers on the
// default bridge; a step on `bridge` reaches it, a step on the default `none` cannot.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { runPipeline } from '../../engine/run.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { planOf, tempDir } from '../helpers/plans.ts';

// No reaper image can be pulled here; the container is stopped in `after` and labelled.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

describe('step networks', await dockerTestOptions(), () => {
  let service: StartedTestContainer;

  before(async () => {
    await ensureBusyboxImage();
    service = await new GenericContainer(BUSYBOX_IMAGE)
      .withCommand(['httpd', '-f', '-p', '8080', '-h', '/www'])
      .withCopyContentToContainer([{ content: 'hello from the service\n', target: '/www/index.html' }])
      .withLabels({ 'gbcms.test': 'network' })
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp('/', 8080))
      .withStartupTimeout(20_000)
      .start();
  });

  after(async () => {
    await service?.stop({ remove: true });
  });

  test('bridge reaches a service; none does not', async () => {
    // busybox's static wget crashes on lookups; nc speaks enough HTTP for this.
    const request = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${service.getIpAddress('bridge')} 8080`;
    const runsDir = tempDir();
    const run = await runPipeline(
      planOf(
        {
          online: { environment: 'online', commands: [request], depends_on: [] },
          offline: { environment: 'offline', commands: [request], depends_on: [] },
        },
        {
          environments: {
            online: { image: BUSYBOX_IMAGE, network: 'bridge' },
            offline: { image: BUSYBOX_IMAGE },
          },
        },
      ),
      { backend: new DockerBackend(), runsDir },
    );
    const byName = Object.fromEntries(run.steps.map((s) => [s.name, s]));
    assert.equal(
      byName.online?.status,
      'success',
      readFileSync(join(runsDir, run.id, byName.online!.log), 'utf8'),
    );
    assert.match(readFileSync(join(runsDir, run.id, byName.online!.log), 'utf8'), /hello from the service/);
    assert.equal(byName.offline?.status, 'failure');
  });
});
