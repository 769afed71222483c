// `npm run bench`: the engine against raw dockerode on the same machine, in one process,
// printed as ratios. Targets: per-step overhead within 1.2x the raw floor, a chain of steps
// (each prepared at its gate while the one before runs) at most 0.5x that floor, log throughput
// at least 80% of a raw attach stream with masking on.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { collectArtifacts } from '../engine/artifacts/collect.ts';
import { DockerBackend } from '../engine/backends/docker/backend.ts';
import type { RunContext } from '../engine/backends/types.ts';
import { compilePlan } from '../engine/compile/compiler.ts';
import type { PipelineFile } from '../engine/config/pipeline-file.generated.ts';
import type { RunObserver } from '../engine/events.ts';
import { runPipeline } from '../engine/run.ts';
import { readRunInputs } from '../engine/run-inputs.ts';
import { ensureBusyboxImage } from '../test/helpers/build-images.ts';
import {
  hardenedStepOptions,
  rawAttachThroughput,
  rawContainer,
  rawFanOut,
  rawGetArchive,
} from './docker-floor.ts';

const docker = new Docker();
const IMAGE = 'busybox:stable';
const SEQUENTIAL_STEPS = Number(process.env.BENCH_STEPS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FAN_OUT = 20;
const LOG_MB = Number(process.env.BENCH_LOG_MB ?? 200);
const ARTIFACT_MB = Number(process.env.BENCH_ARTIFACT_MB ?? 200);
const SECRETS = {
  BENCH_TOKEN_A: 'abcdefgh12345678',
  BENCH_TOKEN_B: 'zyxwvut987654321',
  BENCH_TOKEN_C: 'not-in-output!!',
};

const rows: Array<[string, string, string, string]> = [];
function report(what: string, engine: string, floor: string, ratio: string) {
  rows.push([what, engine, floor, ratio]);
  console.log(`${what}: engine ${engine}, floor ${floor}, ratio ${ratio}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function workspace(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gbcms-bench-'));
}

function plan(steps: PipelineFile['steps'], dir: string, runtime: 'runc' | 'crun' = 'runc') {
  return compilePlan(
    { version: 1, name: 'bench', environments: { shell: { image: IMAGE, runtime } }, steps },
    { file: '.gbcms.yml', workspace: dir, trigger: { event: 'manual' } },
  );
}

async function engineRun(
  steps: PipelineFile['steps'],
  options: {
    concurrency?: number;
    secrets?: Record<string, string>;
    observer?: RunObserver;
    maxLogBytes?: number;
    runtime?: 'runc' | 'crun';
  } = {},
) {
  const dir = await workspace();
  try {
    const started = performance.now();
    const record = await runPipeline(plan(steps, dir, options.runtime), {
      backend: new DockerBackend({ docker }),
      runsDir: join(dir, '.gbcms', 'runs'),
      concurrency: options.concurrency ?? availableParallelism(),
      secrets: options.secrets ?? {},
      ...(options.observer ? { observer: options.observer } : {}),
      ...(options.maxLogBytes ? { maxLogBytes: options.maxLogBytes } : {}),
    });
    if (record.status !== 'success')
      throw new Error(`bench run ended ${record.status}: ${JSON.stringify(record.steps)}`);
    return { ms: performance.now() - started, record };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Container options exactly as the engine makes them for a step, for the raw floor. */
function hardenedOptions(commands: [string, ...string[]], name: string) {
  return hardenedStepOptions(IMAGE, commands, name);
}

async function perStepOverhead() {
  const options = await hardenedOptions(['true'], 'floor');
  const steps = Object.fromEntries(
    Array.from({ length: SEQUENTIAL_STEPS }, (_, i) => [
      `s${i}`,
      { environment: 'shell', commands: ['true'] as [string] },
    ]),
  );
  await rawContainer(docker, options); // warm-up
  await engineRun({ warm: { environment: 'shell', commands: ['true'] } });
  // Rounds alternate floor and engine, so a slow spell of the machine hits both alike.
  const floors: number[] = [];
  const engines: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let floor = 0;
    for (let i = 0; i < SEQUENTIAL_STEPS; i++) floor += await rawContainer(docker, options);
    floors.push(floor / SEQUENTIAL_STEPS);
    engines.push((await engineRun(steps, { concurrency: 1 })).ms / SEQUENTIAL_STEPS);
  }
  const ratios = engines.map((engine, i) => engine / (floors[i] as number));
  const [low, high] = [Math.min(...ratios), Math.max(...ratios)];
  report(
    `per-step cost (${SEQUENTIAL_STEPS} sequential steps, run setup included, median of ${ROUNDS} rounds)`,
    `${median(engines).toFixed(0)} ms`,
    `${median(floors).toFixed(0)} ms`,
    `${median(ratios).toFixed(2)}x, rounds ${low.toFixed(2)}x-${high.toFixed(2)}x (target <= 1.2x)`,
  );
}

/**
 * A chain: each step depends on the one before, so the engine starts the next step's container
 * at its gate while the previous one runs (engine/warm-steps.ts). Every step prints its own
 * line; each line and exit code is checked, on both sides.
 */
async function chain() {
  const concurrency = availableParallelism();
  const floorOptions = (i: number) => hardenedOptions([`echo chain-${i}`], `chain-${i}`);
  const steps = Object.fromEntries(
    Array.from({ length: SEQUENTIAL_STEPS }, (_, i) => [
      `c${i}`,
      {
        environment: 'shell',
        commands: [`echo chain-${i}`] as [string],
        ...(i === 0 ? {} : { depends_on: [`c${i - 1}`] }),
      },
    ]),
  );
  const checkedRun = async (runtime: 'runc' | 'crun' = 'runc') => {
    const lines = new Map<string, string[]>();
    const { ms, record } = await engineRun(steps, {
      concurrency,
      runtime,
      observer: (event) => {
        if (event.type !== 'log' || event.line.stream !== 'stdout') return;
        lines.set(event.step, [...(lines.get(event.step) ?? []), event.line.text]);
      },
    });
    record.steps.forEach((step, i) => {
      const printed = lines.get(step.name)?.filter((line) => !line.startsWith('+ '));
      if (step.exit_code !== 0 || printed?.join('\n') !== `chain-${i}`)
        throw new Error(
          `chain step ${step.name}: exit ${step.exit_code}, printed ${JSON.stringify(printed)}`,
        );
    });
    return ms;
  };
  const options = await Promise.all(Array.from({ length: SEQUENTIAL_STEPS }, (_, i) => floorOptions(i)));
  await rawContainer(docker, options[0]!); // warm-up
  await checkedRun();
  // The same chain under crun too, where this host runs it (see runtimes()).
  const withCrun = await checkedRun('crun').then(
    () => true,
    () => false,
  );
  const floors: number[] = [];
  const engines: number[] = [];
  const crunEngines: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let floor = 0;
    for (const step of options) floor += await rawContainer(docker, step);
    floors.push(floor / SEQUENTIAL_STEPS);
    engines.push((await checkedRun()) / SEQUENTIAL_STEPS);
    if (withCrun) crunEngines.push((await checkedRun('crun')) / SEQUENTIAL_STEPS);
  }
  const ratios = engines.map((engine, i) => engine / (floors[i] as number));
  const ratio = median(ratios);
  const verdict =
    ratio <= 0.5 ? 'target <= 0.5x met' : `target <= 0.5x missed by ${(ratio - 0.5).toFixed(2)}x`;
  report(
    `${SEQUENTIAL_STEPS}-step sequential chain, per step (run setup included, concurrency ${concurrency}, median of ${ROUNDS} rounds)`,
    `${median(engines).toFixed(0)} ms`,
    `${median(floors).toFixed(0)} ms`,
    `${ratio.toFixed(2)}x, rounds ${Math.min(...ratios).toFixed(2)}x-${Math.max(...ratios).toFixed(2)}x (${verdict})`,
  );
  if (!withCrun) return;
  const crunRatios = crunEngines.map((engine, i) => engine / (floors[i] as number));
  const crunRatio = median(crunRatios);
  report(
    `the same chain with runtime: crun, against the same runc floor`,
    `${median(crunEngines).toFixed(0)} ms`,
    `${median(floors).toFixed(0)} ms`,
    `${crunRatio.toFixed(2)}x, rounds ${Math.min(...crunRatios).toFixed(2)}x-${Math.max(...crunRatios).toFixed(2)}x (${crunRatio <= 0.5 ? 'target <= 0.5x met' : `target <= 0.5x missed by ${(crunRatio - 0.5).toFixed(2)}x`})`,
  );
}

/**
 * crun against runc, Docker's default: the raw floor (create/start/wait/remove of the same
 * hardened container) under each, and the engine's per-step cost with `runtime: crun` against
 * `runtime: runc`, in alternating rounds. A host where crun cannot run says why instead.
 */
async function runtimes() {
  const runc = await hardenedOptions(['true'], 'runtime-runc');
  const crun = { ...runc, name: `${runc.name}-crun`, HostConfig: { ...runc.HostConfig, Runtime: 'crun' } };
  try {
    await rawContainer(docker, crun); // warm-up, and whether this host runs crun at all
  } catch (error) {
    report(
      'crun against runc',
      'crun refused on this host',
      '-',
      (error as Error).message.split('\n')[0] ?? '',
    );
    return;
  }
  await rawContainer(docker, runc);
  const steps = Object.fromEntries(
    Array.from({ length: SEQUENTIAL_STEPS }, (_, i) => [
      `s${i}`,
      { environment: 'shell', commands: ['true'] as [string] },
    ]),
  );
  const raw = { runc: [] as number[], crun: [] as number[] };
  const engine = { runc: [] as number[], crun: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, options] of [
      ['runc', runc],
      ['crun', crun],
    ] as const) {
      let total = 0;
      for (let i = 0; i < SEQUENTIAL_STEPS; i++) total += await rawContainer(docker, options);
      raw[name].push(total / SEQUENTIAL_STEPS);
    }
    for (const name of ['runc', 'crun'] as const) {
      const { ms } = await engineRun(steps, { concurrency: 1, runtime: name });
      engine[name].push(ms / SEQUENTIAL_STEPS);
    }
  }
  const ratio = (a: number[], b: number[]) => a.map((value, i) => value / (b[i] as number));
  const rawRatios = ratio(raw.crun, raw.runc);
  report(
    `raw create/start/wait/remove of a hardened container, crun against runc (median of ${ROUNDS} rounds of ${SEQUENTIAL_STEPS})`,
    `${median(raw.crun).toFixed(0)} ms (crun)`,
    `${median(raw.runc).toFixed(0)} ms (runc)`,
    `${median(rawRatios).toFixed(2)}x, rounds ${Math.min(...rawRatios).toFixed(2)}x-${Math.max(...rawRatios).toFixed(2)}x`,
  );
  const engineRatios = ratio(engine.crun, engine.runc);
  report(
    `engine per-step cost, runtime: crun against runtime: runc (${SEQUENTIAL_STEPS} sequential steps, median of ${ROUNDS} rounds)`,
    `${median(engine.crun).toFixed(0)} ms (crun)`,
    `${median(engine.runc).toFixed(0)} ms (runc)`,
    `${median(engineRatios).toFixed(2)}x, rounds ${Math.min(...engineRatios).toFixed(2)}x-${Math.max(...engineRatios).toFixed(2)}x`,
  );
}

async function fanOut() {
  const options = await hardenedOptions(['true'], 'fan');
  const concurrency = availableParallelism();
  const floor = await rawFanOut(docker, options, FAN_OUT, concurrency);
  const steps = Object.fromEntries(
    Array.from({ length: FAN_OUT }, (_, i) => [
      `s${i}`,
      { environment: 'shell', commands: ['true'] as [string], depends_on: [] },
    ]),
  );
  const { ms } = await engineRun(steps, { concurrency });
  report(
    `${FAN_OUT}-step fan-out wall time (concurrency ${concurrency})`,
    `${ms.toFixed(0)} ms`,
    `${floor.toFixed(0)} ms`,
    `${(ms / floor).toFixed(2)}x`,
  );
}

async function logThroughput() {
  // 100-byte lines, as a chatty build prints them.
  const command = `head -c ${LOG_MB * 1024 * 1024} /dev/zero | tr '\\0' 'x' | fold -w 99 && echo`;
  const raw = await rawAttachThroughput(docker, await hardenedOptions([command], 'logs'));
  const rawMBs = raw.bytes / 1024 / 1024 / (raw.ms / 1000);
  // The same first-to-last measure, on the lines observers get (split, masked, stored), all of
  // them: the cap is raised above the output so nothing is only counted.
  let first: number | undefined;
  let last = 0;
  let bytes = 0;
  await engineRun(
    { logs: { environment: 'shell', commands: [command], secrets: Object.keys(SECRETS) } },
    {
      secrets: SECRETS,
      maxLogBytes: 2 * LOG_MB * 1024 * 1024,
      observer: (event) => {
        if (event.type !== 'log' || event.line.stream !== 'stdout') return;
        last = performance.now();
        first ??= last;
        bytes += event.line.text.length + 1;
      },
    },
  );
  if (bytes !== raw.bytes)
    throw new Error(`the engine delivered ${bytes} bytes of lines, the step printed ${raw.bytes}`);
  const engineMBs = bytes / 1024 / 1024 / ((last - (first ?? last)) / 1000);
  report(
    `log throughput, ${LOG_MB} MB in 100-byte lines, 3 secrets masked`,
    `${engineMBs.toFixed(1)} MB/s`,
    `${rawMBs.toFixed(1)} MB/s`,
    `${((engineMBs / rawMBs) * 100).toFixed(0)}% (target >= 80%)`,
  );
}

async function artifactThroughput() {
  const dir = await workspace();
  const backend = new DockerBackend({ docker });
  const p = plan(
    {
      make: {
        environment: 'shell',
        commands: [`head -c ${ARTIFACT_MB * 1024 * 1024} /dev/urandom > blob.bin`],
        artifacts: ['blob.bin'],
      },
    },
    dir,
  );
  const run: RunContext = {
    id: `bench-art-${process.pid}`,
    plan: p,
    dir,
    secrets: {},
    env: {},
    notice: () => undefined,
  };
  const step = p.steps[0]!;
  try {
    await backend.setupRun(run, await readRunInputs(p, run.notice));
    await backend.startStep(step, run);
    for await (const _ of backend.tailStep(step, run));
    await backend.waitStep(step, run, new AbortController().signal, 1000);
    const container = docker.getContainer(
      (
        await docker.listContainers({
          all: true,
          filters: { label: [`gbcms.run=${run.id}`, 'gbcms.role=step'] },
        })
      )[0]!.Id,
    );
    // Rounds alternate the raw read and the engine's collection of the same file.
    const engines: number[] = [];
    const floors: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const raw = await rawGetArchive(container, '/workspace/blob.bin');
      floors.push(raw.bytes / 1024 / 1024 / (raw.ms / 1000));
      const dest = join(dir, `artifacts-${round}`);
      const started = performance.now();
      const files = await collectArtifacts(backend, step, run, {
        destDir: dest,
        missing: (path) => {
          throw new Error(`the bench artifact '${path}' is missing`);
        },
      });
      const engineMs = performance.now() - started;
      engines.push(files.reduce((sum, f) => sum + f.size, 0) / 1024 / 1024 / (engineMs / 1000));
      await rm(dest, { recursive: true, force: true });
    }
    const ratios = engines.map((engine, i) => engine / (floors[i] as number));
    report(
      `artifact collection, ${ARTIFACT_MB} MB file (extract + sha256 + write), median of ${ROUNDS} rounds`,
      `${median(engines).toFixed(1)} MB/s`,
      `${median(floors).toFixed(1)} MB/s (raw getArchive, read only)`,
      `${(median(ratios) * 100).toFixed(0)}%`,
    );
  } finally {
    await backend.destroyRun(run.id);
    await rm(dir, { recursive: true, force: true });
  }
}

await ensureBusyboxImage();
const only = process.argv.slice(2);
const sections: Record<string, () => Promise<void>> = {
  step: perStepOverhead,
  chain,
  runtimes,
  fanout: fanOut,
  logs: logThroughput,
  artifacts: artifactThroughput,
};
for (const [name, section] of Object.entries(sections))
  if (only.length === 0 || only.includes(name)) await section();
console.log('\n| measure | engine | floor | ratio |\n|---|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
