// Caches, the pure parts: lint rules, the planned form, the key hash and Docker's options.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  cacheMountTarget,
  cacheVolumeName,
  cacheVolumeOptions,
  stepContainerOptions,
} from '../../engine/backends/docker/convert.ts';
import { LABEL_RUN } from '../../engine/backends/docker/labels.ts';
import type { RunContext } from '../../engine/backends/types.ts';
import {
  CacheKeyFileError,
  cacheKey,
  cacheSlot,
  hashKeyFile,
  MAX_KEY_FILE_BYTES,
  resolveStepCaches,
} from '../../engine/cache.ts';
import { compilePlan } from '../../engine/compile/compiler.ts';
import { lintPipelineSource } from '../../engine/pipeline.ts';
import type { Plan, PlannedStep } from '../../engine/plan.ts';
import { readRunInputs } from '../../engine/run-inputs.ts';
import { beforeHang } from '../helpers/hang.ts';

function lint(source: string): string[] {
  return lintPipelineSource(source, 'p.yml').diagnostics.map(
    (d) => `${d.line}:${d.col} ${d.code} ${d.message}`,
  );
}

const withCache = (...cacheLines: string[]) =>
  [
    'version: 1',
    'steps:',
    '  a:',
    '    image: busybox:stable',
    '    commands: [x]',
    '    cache:',
    ...cacheLines,
    '',
  ].join('\n');

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('cache: lint', () => {
  test('relative and absolute paths with key files are fine', () => {
    assert.deepEqual(
      lint(
        withCache(
          '      - path: node_modules',
          '        key: [package-lock.json]',
          '      - path: /home/gbcms/.npm',
        ),
      ),
      [],
    );
  });

  test('.. is refused in paths and key files, absolute key files too, each at its place', () => {
    assert.deepEqual(
      lint(
        withCache('      - path: ../outside', '      - path: deps', '        key: [../lock, /etc/passwd]'),
      ),
      [
        "7:15 GBCMS_CACHE_UNSAFE_PATH steps.a.cache.0.path: '../outside' contains '..'; name the folder directly",
        "9:15 GBCMS_CACHE_UNSAFE_PATH steps.a.cache.1.key.0: key file '../lock' contains '..' and could leave the workspace",
        "9:24 GBCMS_CACHE_UNSAFE_PATH steps.a.cache.1.key.1: key file '/etc/passwd' is an absolute path; use a path relative to the workspace",
      ],
    );
  });

  test('the same folder twice, in two spellings, is refused at the second', () => {
    assert.deepEqual(lint(withCache('      - path: node_modules', '      - path: ./node_modules/')), [
      "8:15 GBCMS_CACHE_DUPLICATE steps.a.cache.1.path: 'node_modules' is already kept by cache 0",
    ]);
  });

  test('the whole workspace is not a cache', () => {
    assert.deepEqual(lint(withCache('      - path: ./')), [
      "7:15 GBCMS_CACHE_UNSAFE_PATH steps.a.cache.0.path: './' is the whole workspace or filesystem; name a folder inside it",
    ]);
  });

  test('at most 8 caches and 16 key files', () => {
    const many = Array.from({ length: 9 }, (_, i) => `      - path: d${i}`);
    assert.deepEqual(lint(withCache(...many)), [
      '7:7 GBCMS_SCHEMA_RANGE steps.a.cache: has more than 8 items',
    ]);
    const keys = Array.from({ length: 17 }, (_, i) => `k${i}`).join(', ');
    assert.match(
      lint(withCache('      - path: d', `        key: [${keys}]`)).join('\n'),
      /^8:14 GBCMS_SCHEMA_RANGE steps\.a\.cache\.0\.key: has more than 16 items$/,
    );
  });
});

describe('cache: plan', () => {
  test('paths and key files are normalised; steps without cache carry none', () => {
    const loaded = lintPipelineSource(
      [
        'version: 1',
        'steps:',
        '  a:',
        '    image: busybox:stable',
        '    commands: [x]',
        '    cache: [{path: ./node_modules/, key: [./package-lock.json]}, {path: /home/gbcms/.npm/}]',
        '  b: {image: busybox:stable, commands: [x]}',
        '',
      ].join('\n'),
      'p.yml',
    );
    assert.ok(loaded.config);
    const plan = compilePlan(loaded.config, { file: 'p.yml', workspace: '/w', trigger: { event: 'manual' } });
    assert.deepEqual(plan.steps[0]?.cache, [
      { path: 'node_modules', keyFiles: ['package-lock.json'] },
      { path: '/home/gbcms/.npm', keyFiles: [] },
    ]);
    assert.equal(plan.steps[1]?.cache, undefined);
    assert.equal(Object.hasOwn(plan.steps[1] ?? {}, 'cache'), false);
  });
});

function plannedStep(cache: PlannedStep['cache'], baseName = 'install'): PlannedStep {
  return {
    name: baseName,
    slug: baseName,
    baseName,
    environment: {
      name: 'image:busybox:stable',
      image: 'busybox:stable',
      pull: 'never',
      resources: { nanoCpus: 1e9, memoryBytes: 1024 ** 3, pids: 64, tmpBytes: 1024 ** 3 },
      network: 'none',
      runtime: 'runc',
      user: '1000:1000',
      env: {},
    },
    commands: ['true'],
    env: {},
    dependsOn: [],
    timeoutMs: 1000,
    retries: 0,
    allowFailure: false,
    artifacts: [],
    reports: {},
    secrets: [],
    ...(cache === undefined ? {} : { cache }),
  };
}

function planIn(workspace: string, name = 'pipe'): Plan {
  return { name, file: '.gbcms.yml', workspace, trigger: { event: 'manual' }, steps: [], layers: [] };
}

describe('cache: keys', () => {
  test('each input changes the key; fields cannot run into each other', () => {
    const slot = cacheSlot('p', 's', 'node_modules');
    const lock = { file: 'package-lock.json', sha256: 'a'.repeat(64) };
    const base = cacheKey('project:1', slot, [lock]);
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.equal(cacheKey('project:1', slot, [lock]), base);
    assert.notEqual(cacheKey('project:2', slot, [lock]), base);
    assert.notEqual(cacheKey('project:1', cacheSlot('q', 's', 'node_modules'), [lock]), base);
    assert.notEqual(cacheKey('project:1', cacheSlot('p', 't', 'node_modules'), [lock]), base);
    assert.notEqual(cacheKey('project:1', cacheSlot('p', 's', 'vendor'), [lock]), base);
    assert.notEqual(cacheKey('project:1', slot, [{ ...lock, sha256: 'b'.repeat(64) }]), base);
    assert.notEqual(cacheKey('project:1', slot, [{ ...lock, sha256: undefined }]), base);
    assert.notEqual(cacheSlot('ab', 'c', 'x'), cacheSlot('a', 'bc', 'x'));
  });

  test('key files are read from the workspace; a missing one counts as empty, with a notice', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'gbcms-cache-key-'));
    dirs.push(workspace);
    writeFileSync(join(workspace, 'lock'), 'one');
    const notices: string[] = [];
    const step = plannedStep([{ path: 'deps', keyFiles: ['lock', 'gone.lock'] }]);
    const [first] = await resolveStepCaches(planIn(workspace), step, 'scope-a', (m) => notices.push(m));
    const slot = cacheSlot('pipe', 'install', 'deps');
    assert.deepEqual(first, {
      path: 'deps',
      scope: 'scope-a',
      slot,
      key: cacheKey('scope-a', slot, [
        { file: 'lock', sha256: createHash('sha256').update('one').digest('hex') },
        { file: 'gone.lock', sha256: undefined },
      ]),
    });
    assert.deepEqual(notices, ["cache key file 'gone.lock' of 'deps' was not found; it counts as empty"]);
    const [otherScope] = await resolveStepCaches(planIn(workspace), step, 'scope-b', () => undefined);
    assert.notEqual(otherScope?.key, first?.key);
    assert.equal(otherScope?.slot, first?.slot);
    writeFileSync(join(workspace, 'lock'), 'two');
    const [second] = await resolveStepCaches(planIn(workspace), step, 'scope-a', () => undefined);
    assert.notEqual(second?.key, first?.key);
    assert.deepEqual(
      await resolveStepCaches(planIn(workspace), plannedStep(undefined), 'scope-a', () => undefined),
      [],
    );
  });

  test('a link that stays in the workspace is followed; its target keys the cache', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'gbcms-cache-key-'));
    dirs.push(workspace);
    mkdirSync(join(workspace, 'sub'));
    writeFileSync(join(workspace, 'sub', 'real.lock'), 'pinned');
    symlinkSync('sub/real.lock', join(workspace, 'lock'));
    assert.equal(await hashKeyFile(workspace, 'lock'), createHash('sha256').update('pinned').digest('hex'));
  });
});

describe('cache: hostile key files', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'gbcms-cache-hostile-'));
  dirs.push(workspace);
  symlinkSync('/dev/zero', join(workspace, 'zero.lock'));
  symlinkSync('/etc/passwd', join(workspace, 'passwd.lock'));
  symlinkSync('../../../../../../../../etc/passwd', join(workspace, 'relative.lock'));
  execFileSync('mkfifo', [join(workspace, 'fifo.lock')]);
  mkdirSync(join(workspace, 'dir.lock'));
  const big = join(workspace, 'big.lock');
  writeFileSync(big, '');
  truncateSync(big, MAX_KEY_FILE_BYTES + 1);

  const cases: Array<[string, RegExp]> = [
    ['zero.lock', /'zero\.lock' is a symbolic link that leads out of the workspace/],
    ['passwd.lock', /'passwd\.lock' is a symbolic link that leads out of the workspace/],
    ['relative.lock', /'relative\.lock' is a symbolic link that leads out of the workspace/],
    ['fifo.lock', /'fifo\.lock' is a FIFO/],
    ['dir.lock', /'dir\.lock' is a directory/],
    ['big.lock', /'big\.lock' is larger than 64 MiB/],
  ];
  for (const [file, message] of cases) {
    test(`${file} is refused at once with why, naming the file and the cache`, async () => {
      const step = plannedStep([{ path: 'deps', keyFiles: [file] }]);
      await assert.rejects(
        beforeHang(
          resolveStepCaches(planIn(workspace), step, 'scope', () => undefined),
          file,
        ),
        (error: unknown) =>
          error instanceof CacheKeyFileError &&
          message.test(error.message) &&
          error.message.includes("(cache 'deps')"),
      );
    });
  }

  test('a refused key file ends its step error; the run goes on for the others', async () => {
    const plan: Plan = {
      ...planIn(workspace),
      steps: [
        { ...plannedStep([{ path: 'deps', keyFiles: ['fifo.lock'] }]), name: 'bad' },
        { ...plannedStep([{ path: 'deps', keyFiles: [] }]), name: 'good' },
      ],
    };
    const inputs = await beforeHang(
      readRunInputs(plan, () => undefined, 'scope'),
      'run inputs',
    );
    assert.match(inputs.refusals.get('bad') ?? '', /cache key file 'fifo\.lock' is a FIFO/);
    assert.equal(inputs.caches.has('bad'), false);
    assert.equal(inputs.caches.get('good')?.length, 1);
  });
});

describe('cache: Docker options', () => {
  const key = 'ab'.repeat(32);

  test('a named volume per key, labelled as a managed cache and never with a run', () => {
    assert.equal(cacheVolumeName(key), `gbcms-cache-${'ab'.repeat(12)}`);
    const options = cacheVolumeOptions({ path: 'deps', key, scope: 'project:p1', slot: 'cd'.repeat(32) });
    assert.equal(options.Name, cacheVolumeName(key));
    assert.deepEqual(options.Labels, {
      'gbcms.managed': 'true',
      'gbcms.cache': 'true',
      'gbcms.cache.scope': 'project:p1',
      'gbcms.cache.slot': 'cd'.repeat(32),
      'gbcms.cache.key': key,
    });
    assert.equal(Object.hasOwn(options.Labels ?? {}, LABEL_RUN), false);
  });

  test('mounted below /workspace for relative paths, as given for absolute ones, after the workspace', () => {
    assert.equal(cacheMountTarget('node_modules'), '/workspace/node_modules');
    assert.equal(cacheMountTarget('/home/gbcms/.npm'), '/home/gbcms/.npm');
    const run: RunContext = {
      id: 'run-1',
      plan: planIn('/tmp'),
      dir: '/tmp/run',
      secrets: {},
      env: {},
      notice: () => undefined,
    };
    const options = stepContainerOptions({
      step: plannedStep([{ path: 'node_modules', keyFiles: [] }]),
      run,
      image: 'sha256:x',
      volume: 'ws',
      attempt: 1,
      caches: [
        { volume: 'gbcms-cache-a', path: 'node_modules' },
        { volume: 'gbcms-cache-b', path: '/home/gbcms/.npm' },
      ],
    });
    const mounts = (options.HostConfig?.Mounts ?? []).map((m) => [
      m.Source,
      m.Target,
      m.ReadOnly,
      m.VolumeOptions?.NoCopy,
    ]);
    assert.deepEqual(mounts, [
      ['ws', '/workspace', false, true],
      ['gbcms-cache-a', '/workspace/node_modules', false, true],
      ['gbcms-cache-b', '/home/gbcms/.npm', false, true],
    ]);
    assert.equal(options.HostConfig?.ReadonlyRootfs, true);
  });
});
