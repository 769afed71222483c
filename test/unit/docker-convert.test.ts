import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isIgnored, parseDockerignore } from '../../engine/backends/docker/build-context.ts';
import {
  GATE_OPEN,
  gatedContainerOptions,
  parseOwner,
  requireRuntime,
  seedContainerOptions,
  stepContainerName,
  stepContainerOptions,
} from '../../engine/backends/docker/convert.ts';
import { FrameParser } from '../../engine/backends/docker/demux.ts';
import { withoutHostPaths } from '../../engine/backends/docker/errors.ts';
import { BackendError, type RunContext } from '../../engine/backends/types.ts';
import { stepSlug, uniqueStepSlugs } from '../../engine/compile/slugs.ts';
import type { Plan, PlannedStep, ResolvedEnvironment } from '../../engine/plan.ts';

function environment(overrides: Partial<ResolvedEnvironment> = {}): ResolvedEnvironment {
  return {
    name: 'image:busybox:stable',
    image: 'busybox:stable',
    pull: 'if-not-present',
    resources: { nanoCpus: 1.5e9, memoryBytes: 256 * 1024 ** 2, pids: 128, tmpBytes: 64 * 1024 ** 2 },
    network: 'none',
    runtime: 'runc',
    user: '1000:1000',
    env: { FROM_ENV: 'e' },
    ...overrides,
  };
}

function step(overrides: Partial<PlannedStep> = {}): PlannedStep {
  return {
    name: 'test (node=20)',
    slug: 'test-node-20',
    baseName: 'test',
    environment: environment(),
    commands: ['echo hi', "echo 'quoted' $HOME"],
    env: { STEP_VAR: 's' },
    dependsOn: [],
    timeoutMs: 60_000,
    retries: 0,
    allowFailure: false,
    artifacts: [],
    reports: {},
    secrets: ['TOKEN'],
    ...overrides,
  };
}

function run(): RunContext {
  const plan: Plan = {
    name: 'p',
    file: '.gbcms.yml',
    workspace: '/tmp',
    trigger: { event: 'manual' },
    steps: [],
    layers: [],
  };
  return {
    id: 'AbCdEf_-1234567890xyz',
    plan,
    dir: '/tmp/run',
    secrets: { TOKEN: 's3cret', OTHER: 'unused' },
    env: { CI: 'true', GBCMS_RUN_ID: 'AbCdEf_-1234567890xyz' },
    notice: () => {},
  };
}

function options(s = step(), runtime?: string) {
  return stepContainerOptions({
    step: s,
    run: run(),
    image: 'sha256:abc',
    volume: 'gbcms-vol',
    attempt: 2,
    ...(runtime === undefined ? {} : { runtime }),
  });
}

describe('stepContainerOptions', () => {
  test('hardening: no capabilities, no new privileges, read-only root, init, no log driver', () => {
    const host = options().HostConfig ?? {};
    assert.equal(host.Init, true);
    assert.equal(host.Privileged, false);
    assert.deepEqual(host.CapDrop, ['ALL']);
    assert.equal(host.CapAdd, undefined);
    assert.deepEqual(host.SecurityOpt, ['no-new-privileges']);
    assert.equal(host.ReadonlyRootfs, true);
    assert.deepEqual(host.LogConfig, { Type: 'none', Config: {} });
    assert.equal(host.AutoRemove, false);
    assert.equal(host.Binds, undefined);
    assert.equal(host.Runtime, undefined);
  });

  test('only the workspace volume is mounted, never a host path or the docker socket', () => {
    const opts = options();
    assert.deepEqual(opts.HostConfig?.Mounts, [
      {
        Type: 'volume',
        Source: 'gbcms-vol',
        Target: '/workspace',
        ReadOnly: false,
        VolumeOptions: { NoCopy: true, Labels: {}, DriverConfig: { Name: '', Options: {} } },
      },
    ]);
    assert.equal(opts.WorkingDir, '/workspace');
    assert.doesNotMatch(JSON.stringify(opts), /docker\.sock/);
  });

  test('resources: memory (plus room for /tmp and HOME) without swap, cpus, pids; network none unless bridge', () => {
    const host = options().HostConfig ?? {};
    assert.equal(host.Memory, 256 * 1024 ** 2 + 64 * 1024 ** 2);
    assert.equal(host.MemorySwap, host.Memory);
    assert.equal(host.NanoCpus, 1.5e9);
    assert.equal(host.PidsLimit, 128);
    assert.equal(host.NetworkMode, 'none');
    assert.equal(options().NetworkDisabled, true);
    const bridged = options(step({ environment: environment({ network: 'bridge' }) }));
    assert.equal(bridged.HostConfig?.NetworkMode, 'bridge');
    assert.equal(bridged.NetworkDisabled, false);
  });

  test('tmpfs /tmp and a private home, both owned by the step user and sized by resources.tmp', () => {
    const opts = options(step({ environment: environment({ user: '1234:99' }) }));
    assert.deepEqual(opts.HostConfig?.Tmpfs, {
      '/tmp': `rw,exec,nosuid,nodev,uid=1234,gid=99,mode=1777,size=${64 * 1024 ** 2}`,
      '/home/gbcms': `rw,exec,nosuid,nodev,uid=1234,gid=99,mode=0700,size=${64 * 1024 ** 2}`,
    });
    assert.equal(opts.User, '1234:99');
    assert.ok(opts.Env?.includes('HOME=/home/gbcms'));
  });

  test('the script is one argv element under sh -e, commands echoed quoted, no entrypoint', () => {
    const opts = options();
    assert.deepEqual(opts.Entrypoint, []);
    const cmd = opts.Cmd ?? [];
    assert.deepEqual(cmd.slice(0, 2), ['/bin/sh', '-ec']);
    assert.equal(cmd.length, 3);
    assert.equal(
      cmd[2],
      "printf '+ %s\\n' 'echo hi'\necho hi\nprintf '+ %s\\n' 'echo '\\''quoted'\\'' $HOME'\necho 'quoted' $HOME\n",
    );
  });

  test('the echo lines print commands verbatim, whatever they contain', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 40 }), (command) => {
        const script = options(step({ commands: [command] })).Cmd?.[2] ?? '';
        const echoLine = script.split('\n')[0] ?? '';
        const printed = execFileSync('/bin/sh', ['-c', echoLine], { encoding: 'utf8' });
        assert.equal(printed, `+ ${command}\n`);
      }),
      { numRuns: 60 },
    );
  });

  test('env: environment, step, run variables and only the secrets the step asked for', () => {
    const env = options().Env ?? [];
    for (const entry of [
      'FROM_ENV=e',
      'STEP_VAR=s',
      'CI=true',
      'TOKEN=s3cret',
      'GBCMS_STEP=test (node=20)',
    ]) {
      assert.ok(env.includes(entry), entry);
    }
    assert.ok(!env.some((e) => e.startsWith('OTHER=')));
  });

  test('labels find the container by run and step', () => {
    assert.deepEqual(options().Labels, {
      'gbcms.managed': 'true',
      'gbcms.run': 'AbCdEf_-1234567890xyz',
      'gbcms.role': 'step',
      'gbcms.step': 'test (node=20)',
    });
  });

  test('gvisor sets the runtime passed in', () => {
    assert.equal(options(step(), 'runsc').HostConfig?.Runtime, 'runsc');
  });
});

describe('requireRuntime', () => {
  test('runc needs nothing; gvisor needs runsc registered', () => {
    assert.equal(requireRuntime(environment(), []), undefined);
    assert.equal(requireRuntime(environment({ runtime: 'gvisor' }), ['runc', 'runsc']), 'runsc');
  });

  test('gvisor without runsc is a coded error that says what to do', () => {
    assert.throws(
      () => requireRuntime(environment({ runtime: 'gvisor', name: 'sandboxed' }), ['runc']),
      (error: unknown) =>
        error instanceof BackendError &&
        error.code === 'GBCMS_ERR_RUNTIME' &&
        /gVisor \(runsc\) is not installed/.test(error.message) &&
        /sandboxed/.test(error.message),
    );
  });

  test('crun needs crun registered, and says how to register it', () => {
    assert.equal(requireRuntime(environment({ runtime: 'crun' }), ['runc', 'crun']), 'crun');
    assert.throws(
      () => requireRuntime(environment({ runtime: 'crun', name: 'fast' }), ['runc', 'runsc']),
      (error: unknown) =>
        error instanceof BackendError &&
        error.code === 'GBCMS_ERR_RUNTIME' &&
        /crun is not registered/.test(error.message) &&
        /fast/.test(error.message),
    );
  });
});

describe('gatedContainerOptions', () => {
  test('the same container, its command behind a line on stdin that closes after it', () => {
    const plain = options(step({ commands: ['make test'] }));
    const gated = gatedContainerOptions(plain);
    assert.deepEqual(gated.Cmd?.slice(4), plain.Cmd);
    assert.deepEqual(gated.Cmd?.slice(0, 4), [
      '/bin/sh',
      '-c',
      'IFS= read -r _ || exit 0; exec "$@"',
      'gbcms-gate',
    ]);
    assert.equal(gated.OpenStdin, true);
    assert.equal(gated.StdinOnce, true);
    assert.equal(gated.AttachStdin, true);
    // Nothing else moves: hardening, limits, mounts, labels, name.
    const { Cmd: _gatedCmd, OpenStdin: _o, StdinOnce: _s, AttachStdin: _a, ...rest } = gated;
    const { Cmd: _plainCmd, OpenStdin: _po, AttachStdin: _pa, ...plainRest } = plain;
    assert.deepEqual(rest, plainRest);
    assert.equal(GATE_OPEN, '\n');
  });
});

describe('names and owners', () => {
  test('container names are valid Docker names, distinct per attempt and per step', () => {
    const named = (name: string) => ({ name, slug: stepSlug(name) });
    const a = stepContainerName('AbCdEf_-1234567890xyz', named('test (node=20)'), 1);
    assert.match(a, /^gbcms-AbCdEf_-1234-test-node-20-[0-9a-f]{6}-1$/);
    assert.notEqual(a, stepContainerName('AbCdEf_-1234567890xyz', named('test (node=20)'), 2));
    assert.notEqual(a, stepContainerName('AbCdEf_-1234567890xyz', named('test [node=20]'), 1));
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), fc.nat(), (id, name, attempt) => {
        assert.match(stepContainerName(id, named(name), attempt), /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
      }),
    );
  });

  test('a long step name keeps the container name short, and distinct by its hash', () => {
    const long = 'x'.repeat(200);
    const a = stepContainerName('run', { name: long, slug: stepSlug(long) }, 1);
    const b = stepContainerName('run', { name: `${long}y`, slug: stepSlug(`${long}y`) }, 1);
    assert.ok(a.length < 70);
    assert.notEqual(a, b);
  });

  test('one slug rule: safe characters, never empty, never a dot name, unique in the plan', () => {
    assert.equal(stepSlug('Build & Test!'), 'Build-Test');
    assert.equal(stepSlug('(((('), 'step');
    assert.equal(stepSlug('..'), 'step');
    assert.equal(stepSlug('.hidden'), 'hidden');
    assert.ok(stepSlug('x'.repeat(200)).length <= 100);
    assert.deepEqual(
      [...uniqueStepSlugs(['a b', 'a-b', 'a b c', 'a (b)']).values()],
      ['a-b', 'a-b-2', 'a-b-c', 'a-b-3'],
    );
  });

  test('parseOwner: numeric users as given, names fall back to 1000:1000', () => {
    assert.deepEqual(parseOwner('1234:55'), { uid: 1234, gid: 55, numeric: true });
    assert.deepEqual(parseOwner('0'), { uid: 0, gid: 0, numeric: true });
    assert.deepEqual(parseOwner('node'), { uid: 1000, gid: 1000, numeric: false });
    assert.deepEqual(parseOwner('node:staff'), { uid: 1000, gid: 1000, numeric: false });
  });

  test('the seeding container is labelled, without network or capabilities, and never read-only', () => {
    const seed = seedContainerOptions('run1', 'sha256:img', 'vol');
    assert.equal(seed.Labels?.['gbcms.run'], 'run1');
    assert.equal(seed.NetworkDisabled, true);
    assert.deepEqual(seed.HostConfig?.CapDrop, ['ALL']);
    assert.notEqual(seed.HostConfig?.ReadonlyRootfs, true);
    assert.deepEqual(seed.HostConfig?.Mounts?.[0]?.Target, '/workspace');
  });
});

function frame(kind: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('FrameParser', () => {
  test('separates stdout and stderr frames', () => {
    const parser = new FrameParser();
    const out = parser.push(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'more')]));
    assert.deepEqual(
      out.map((c) => [c.stream, c.data.toString()]),
      [
        ['stdout', 'out\n'],
        ['stderr', 'err\n'],
        ['stdout', 'more'],
      ],
    );
    assert.equal(parser.leftover, 0);
  });

  test('frames split at any byte reassemble to the same output', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(1, 2), fc.string({ minLength: 1, maxLength: 30 })), {
          maxLength: 8,
        }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (frames, cuts) => {
          const whole = Buffer.concat(frames.map(([k, t]) => frame(k, t)));
          const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
          const parser = new FrameParser();
          const got: string[] = [];
          let start = 0;
          for (const point of [...points, whole.length]) {
            for (const chunk of parser.push(whole.subarray(start, point))) {
              got.push(`${chunk.stream}:${chunk.data.toString()}`);
            }
            start = point;
          }
          assert.deepEqual(
            got,
            frames.map(([k, t]) => `${k === 2 ? 'stderr' : 'stdout'}:${t}`),
          );
          assert.equal(parser.leftover, 0);
        },
      ),
    );
  });

  test('an unfinished frame is kept, not emitted', () => {
    const parser = new FrameParser();
    assert.deepEqual(parser.push(frame(1, 'hello').subarray(0, 10)), []);
    assert.equal(parser.leftover, 10);
  });
});

describe('.dockerignore', () => {
  const rules = parseDockerignore(
    '# comment\n\nnode_modules\n/build\n*.log\n!keep.log\ndocs/**/*.md\n!docs/README.md\n**/tmp\n',
  );

  test('a pattern excludes matching files and everything below matching directories', () => {
    assert.equal(isIgnored(rules, 'node_modules'), true);
    assert.equal(isIgnored(rules, 'node_modules/a/b.js'), true);
    assert.equal(isIgnored(rules, 'build/out/x'), true);
    assert.equal(isIgnored(rules, 'src/index.ts'), false);
    assert.equal(isIgnored(rules, 'src/node_modules/x'), false);
  });

  test('the last matching rule wins, so ! re-includes', () => {
    assert.equal(isIgnored(rules, 'debug.log'), true);
    assert.equal(isIgnored(rules, 'keep.log'), false);
    assert.equal(isIgnored(rules, 'docs/a/b.md'), true);
    assert.equal(isIgnored(rules, 'docs/README.md'), false);
  });

  test('** matches any depth', () => {
    assert.equal(isIgnored(rules, 'a/b/tmp/file'), true);
    assert.equal(isIgnored(rules, 'tmp'), true);
  });
});

describe('Docker messages', () => {
  test('host paths of the daemon become container paths or volume names', () => {
    const overlay =
      'lstat /var/lib/docker/overlay2/0df3cdc626db60162c09fb7f1b56647f04eb56799a317b495f064baae29f4b56/merged/workspace/.gbcms/reports/a.jsonl: not a directory';
    assert.equal(withoutHostPaths(overlay), 'lstat /workspace/.gbcms/reports/a.jsonl: not a directory');
    const volume = 'open /srv/docker/volumes/gbcms-abc-workspace/_data/x: permission denied';
    assert.equal(withoutHostPaths(volume), 'open <volume gbcms-abc-workspace>/x: permission denied');
    assert.equal(withoutHostPaths('No such container: abc'), 'No such container: abc');
  });
});
