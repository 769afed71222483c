// `npm run bench:lint [-- FAMILY...]`: lints pathological files of just under
// the 1 MiB limit, one family of hostile input each, and prints each one's time as a ratio
// against linting an honest pipeline of the same size in the same run (load slows both alike).
// The goal is every family under about a second on a small shared machine.
//   LINT_WORST_ROUNDS=N   runs per family, the fastest is kept (default 2)
import { lintPipelineSource, MAX_PIPELINE_BYTES } from '../engine/pipeline.ts';
import { pathologicalFamilies } from './lint-families.ts';

const ROUNDS = Number(process.env.LINT_WORST_ROUNDS ?? 2);
const only = new Set(process.argv.slice(2));

function fastest(text: string): { ms: number; diagnostics: number; first: string } {
  let ms = Number.POSITIVE_INFINITY;
  let result = lintPipelineSource(text, 'worst.yml');
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    result = lintPipelineSource(text, 'worst.yml');
    ms = Math.min(ms, performance.now() - started);
  }
  const [d] = result.diagnostics;
  const first = d ? `${d.line}:${d.col} ${d.code} ${d.message.slice(0, 70)}` : '(none)';
  return { ms, diagnostics: result.diagnostics.length, first };
}

const families = pathologicalFamilies(MAX_PIPELINE_BYTES - 64);
const honest = families.find((f) => f.name === 'honest');
if (!honest) throw new Error('the honest baseline family is missing');
// Measured first and last: the faster of the two is the baseline, so a burst of load on a
// shared machine during one of them does not flatter the ratios.
const baseline = fastest(honest.text);
console.log(`honest pipeline (${honest.text.length} chars): ${baseline.ms.toFixed(0)} ms`);
let worst = 0;
for (const family of families) {
  if (family.name === 'honest' || (only.size > 0 && !only.has(family.name))) continue;
  const { ms, diagnostics, first } = fastest(family.text);
  worst = Math.max(worst, ms);
  const ratio = (ms / baseline.ms).toFixed(2); // against the first baseline: printed as it goes
  console.log(
    `${family.name.padEnd(24)} ${ms.toFixed(0).padStart(6)} ms  ${ratio.padStart(6)}x  ${diagnostics} diagnostics, first: ${first}`,
  );
}
const again = fastest(honest.text);
console.log(`honest pipeline again: ${again.ms.toFixed(0)} ms`);
const honestMs = Math.min(baseline.ms, again.ms);
console.log(`slowest family: ${worst.toFixed(0)} ms (${(worst / honestMs).toFixed(2)}x honest)`);
