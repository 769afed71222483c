// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline text quotes the ${{ matrix.AXIS }} syntax
// `npm run fuzz`: the pipeline loader against many generated inputs (100,000 by default), too
// many for `npm test`'s time budget. Inputs mix random text and bytes, YAML-shaped noise
// (flow and block collections, anchors, tags, quotes, deep nesting), mangled real pipelines and
// the pathological floods of bench/lint-families.ts.
// It counts what must never happen: a throw, a diagnostic without a line and column, an
// unknown code, a config together with an error, and an input that took over a second.
// Exits 1 when any count is not zero, printing the first offending inputs to reproduce them.
//   FUZZ_RUNS=N   how many inputs (default 100000)
//   FUZZ_SEED=S   the seed, to replay a run (default: random, printed)
import fc from 'fast-check';
import { LINT_CODES } from '../engine/lint/codes.ts';
import { lintPipelineSource } from '../engine/pipeline.ts';
import { FAMILIES } from './lint-families.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SLOW_MS = 1000;

const VALID = [
  'version: 1',
  'name: shop',
  'env: {CI_NAME: gbcms}',
  'environments:',
  '  node: {image: "node:20", user: "1000", resources: {memory: 512m, cpus: 1}}',
  'steps:',
  '  install:',
  '    environment: node',
  '    commands: [npm ci]',
  '    cache: [{path: node_modules, key: [package-lock.json]}]',
  '  test:',
  '    environment: node',
  '    depends_on: [install]',
  '    matrix: {shard: ["1", "2"]}',
  '    commands: ["npm test -- --shard=${{ matrix.shard }}/2"]',
  '    reports: {junit: junit.xml}',
  '    artifacts: [coverage/, {path: junit.xml, name: reports/junit.xml}]',
  '    when: {branch: [main, "release/*"], event: [push]}',
  '  deploy:',
  '    image: busybox:stable',
  '    depends_on: [test]',
  '    secrets: [DEPLOY_KEY]',
  '    timeout: 10m',
  '    retries: 2',
  '    commands: [./deploy.sh]',
  '',
].join('\n');

/** Pieces of YAML syntax, so generated text reaches the parser's odd corners, not only its first error. */
const SYNTAX = fc.constantFrom(
  '\n',
  '  ',
  '- ',
  ': ',
  '? ',
  '[',
  ']',
  '{',
  '}',
  ', ',
  '&a ',
  '*a',
  '!!str ',
  '!custom ',
  '"',
  "'",
  '|',
  '>-',
  '#',
  '---\n',
  '...\n',
  '<<: ',
  '__proto__: ',
  '%YAML 1.1\n',
  'steps:',
  'version: 1',
  '${{ matrix.x }}',
  '\t',
  '\r\n',
  '\u0000',
  '\uFEFF',
);

const yamlNoise = fc
  .array(fc.oneof(SYNTAX, fc.string({ maxLength: 6 })), { maxLength: 200 })
  .map((parts) => parts.join(''));

const mangled = fc
  .array(
    fc.tuple(fc.nat(VALID.length), fc.nat(12), fc.oneof(SYNTAX, fc.string({ unit: 'binary', maxLength: 8 }))),
    {
      minLength: 1,
      maxLength: 6,
    },
  )
  .map((edits) =>
    edits.reduce((text, [at, cut, insert]) => text.slice(0, at) + insert + text.slice(at + cut), VALID),
  );

const nested = fc
  .tuple(fc.constantFrom('[', '{a: ', '- ', 'a: ', '{a: s: ', '? '), fc.integer({ min: 1, max: 5000 }))
  .map(([open, depth]) => open.repeat(depth));

// The floods of bench/lint-families.ts (a token or an error per byte, deep-but-allowed
// nesting, documents, anchors, escapes) up to 32 KiB, sometimes after a valid pipeline, so
// their errors land at every kind of position; bench/lint-worst.ts times them at 1 MiB.
const flooded = fc
  .tuple(fc.constantFrom(...FAMILIES), fc.integer({ min: 1, max: 32 * 1024 }), fc.boolean())
  .map(([[, make], size, prefixed]) => (prefixed ? VALID : '') + make(size));

const input = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 400 }), weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 400 }), weight: 1 },
  { arbitrary: yamlNoise, weight: 4 },
  { arbitrary: mangled, weight: 4 },
  { arbitrary: nested, weight: 1 },
  { arbitrary: flooded, weight: 1 },
);

interface Finding {
  what: string;
  input: string;
}

const counts = { crashes: 0, unlocated: 0, unknownCodes: 0, configWithError: 0, slow: 0 };
const examples: Finding[] = [];
const note = (what: keyof typeof counts, source: string | Uint8Array, detail: string) => {
  counts[what] += 1;
  if (examples.length < 10) {
    const shown = typeof source === 'string' ? source : Buffer.from(source).toString('latin1');
    examples.push({ what: `${what}: ${detail}`, input: JSON.stringify(shown.slice(0, 300)) });
  }
};

/**
 * An input over the limit is timed twice more and the fastest try counts: on a shared machine
 * a pause of the whole process (load, a major GC) lands on some input, and is not its cost.
 */
function fastest(first: number, source: string | Uint8Array): number {
  let ms = first;
  for (let i = 0; i < 2 && ms > SLOW_MS; i++) {
    const started = performance.now();
    lintPipelineSource(source, 'fuzz.yml');
    ms = Math.min(ms, performance.now() - started);
  }
  return ms;
}

let slowest = 0;
const started = performance.now();
const samples = fc.sample(input, { numRuns: RUNS, seed: SEED });
for (const [i, source] of samples.entries()) {
  const t0 = performance.now();
  let result: ReturnType<typeof lintPipelineSource>;
  try {
    result = lintPipelineSource(source, 'fuzz.yml');
  } catch (error) {
    note('crashes', source, error instanceof Error ? (error.stack ?? error.message) : String(error));
    continue;
  }
  const ms = fastest(performance.now() - t0, source);
  slowest = Math.max(slowest, ms);
  if (ms > SLOW_MS) note('slow', source, `${Math.round(ms)} ms`);
  for (const d of result.diagnostics) {
    if (d.line === undefined || d.col === undefined) note('unlocated', source, `${d.code}: ${d.message}`);
    if (!(d.code in LINT_CODES)) note('unknownCodes', source, d.code);
  }
  if (result.config && result.diagnostics.some((d) => d.severity === 'error')) {
    note('configWithError', source, 'a config came back with an error');
  }
  if ((i + 1) % 10_000 === 0) {
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    process.stderr.write(`fuzz: ${i + 1}/${RUNS} inputs, ${seconds} s\n`);
  }
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`fuzz: ${RUNS} inputs (seed ${SEED}) in ${seconds} s; slowest ${Math.round(slowest)} ms`);
for (const [what, n] of Object.entries(counts)) console.log(`  ${what}: ${n}`);
for (const example of examples) console.log(`- ${example.what}\n  input: ${example.input}`);
process.exitCode = Object.values(counts).every((n) => n === 0) ? 0 : 1;
