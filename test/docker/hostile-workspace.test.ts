// What else gbcms reads from a repository on the host, under `gbcms run` on Docker: the
// workspace it packs for the run and the build contexts of `build:` environments. Links
// that lead out of the repository and FIFOs never make gbcms read host files or block.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { contextHash } from '../../engine/backends/docker/build-context.ts';
import { buildTag } from '../../engine/backends/docker/images.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { gbcmsChild } from '../helpers/cli-child.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { tempDir } from '../helpers/plans.ts';

function repo(pipeline: string): { dir: string; outside: string } {
  const root = tempDir('gbcms-hostile-');
  const dir = join(root, 'repo');
  const outside = join(root, 'outside');
  mkdirSync(dir);
  mkdirSync(outside);
  writeFileSync(join(dir, '.gbcms.yml'), pipeline);
  return { dir, outside };
}

const run = (dir: string) => gbcmsChild(['run', dir, '--backend', 'docker'], { cwd: dir });

const builtContexts: string[] = [];

describe('gbcms run (docker): hostile workspace files', await dockerTestOptions(), () => {
  before(async () => {
    await ensureBusyboxImage();
  });

  after(async () => {
    // An image old code built from a context outside the workspace would linger otherwise.
    for (const dir of builtContexts) {
      const tag = buildTag(
        await contextHash(dir, ['Dockerfile', 'secret.txt'], 'Dockerfile', {}).catch(() => ''),
      );
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
    }
  });

  test('the workspace keeps links as links and leaves FIFOs out; nothing blocks', async () => {
    const { dir } = repo(
      [
        'version: 1',
        'steps:',
        '  look:',
        `    image: ${BUSYBOX_IMAGE}`,
        '    commands:',
        '      - test -L passwd && echo "link to $(readlink passwd)"',
        '      - test ! -e fifo && echo "no fifo"',
        '',
      ].join('\n'),
    );
    symlinkSync('/etc/passwd', join(dir, 'passwd'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const { code, output } = await run(dir);
    assert.equal(code, 0, output);
    assert.match(output, /link to \/etc\/passwd/);
    assert.match(output, /no fifo/);
  });

  test('a build context that is a link out of the workspace is refused; its files never reach an image', async () => {
    const secret = randomBytes(12).toString('hex');
    const { dir, outside } = repo(
      [
        'version: 1',
        'environments:',
        '  built:',
        '    build:',
        '      context: ctx',
        'steps:',
        '  leak:',
        '    environment: built',
        '    commands: [cat /secret.txt]',
        '',
      ].join('\n'),
    );
    writeFileSync(join(outside, 'Dockerfile'), `FROM ${BUSYBOX_IMAGE}\nCOPY secret.txt /secret.txt\n`);
    writeFileSync(join(outside, 'secret.txt'), secret);
    builtContexts.push(outside);
    symlinkSync(outside, join(dir, 'ctx'));
    const { code, output } = await run(dir);
    assert.equal(code, 2, output);
    assert.match(output, /build context 'ctx'.*'ctx' is a symbolic link that leads out of the workspace/);
    assert.doesNotMatch(output, new RegExp(secret));
  });

  test('a .dockerignore that is a FIFO is refused at once, naming it', async () => {
    const { dir } = repo(
      [
        'version: 1',
        'environments:',
        '  built:',
        '    build:',
        '      context: ctx',
        'steps:',
        '  use:',
        '    environment: built',
        '    commands: ["true"]',
        '',
      ].join('\n'),
    );
    mkdirSync(join(dir, 'ctx'));
    writeFileSync(join(dir, 'ctx', 'Dockerfile'), `FROM ${BUSYBOX_IMAGE}\n`);
    execFileSync('mkfifo', [join(dir, 'ctx', '.dockerignore')]);
    const { code, output } = await run(dir);
    assert.equal(code, 2, output);
    assert.match(output, /build context 'ctx'.*'\.dockerignore' is a FIFO/);
  });
});
