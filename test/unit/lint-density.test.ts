// The token budget of the YAML read (engine/lint/yaml-parse.ts): a file denser than any honest
// pipeline is refused after a bounded amount of parsing, with one diagnostic that says what
// and where, and honest files of the largest size are never refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Diagnostic } from '../../engine/diagnostics.ts';
import { MAX_YAML_TOKENS } from '../../engine/lint/yaml-parse.ts';
import { lintPipelineSource, MAX_PIPELINE_BYTES } from '../../engine/pipeline.ts';

/** `head` then `unit` repeated until the text is `bytes` long at most. */
function flood(bytes: number, unit: string, head = '', tail = ''): string {
  return head + unit.repeat(Math.floor((bytes - head.length - tail.length) / unit.length)) + tail;
}

function refusal(text: string): Diagnostic {
  const { diagnostics, config } = lintPipelineSource(text, 'dense.yml');
  assert.equal(config, undefined);
  assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics.slice(0, 3)));
  const [d] = diagnostics;
  assert.ok(d);
  assert.equal(d.code, 'GBCMS_YAML_TOO_COMPLEX');
  assert.equal(d.severity, 'error');
  assert.equal(d.file, 'dense.yml');
  assert.match(d.message, new RegExp(`more than ${MAX_YAML_TOKENS} YAML tokens`));
  return d;
}

/** The character at a diagnostic's line and column. */
function charAt(text: string, d: Diagnostic): string | undefined {
  const line = text.split('\n')[(d.line ?? 0) - 1];
  return line?.[(d.col ?? 0) - 1];
}

const LIMIT = MAX_PIPELINE_BYTES - 16;

describe('dense YAML is refused after a bounded read', () => {
  test('1 MiB of commas in a flow sequence: one located error instead of a million', () => {
    const text = flood(LIMIT, ',\n', 'version: 1\nsteps: [');
    const d = refusal(text);
    // Past the valid head, on one of the commas, about a token budget into the flood.
    assert.ok((d.line ?? 0) > 2, `line ${d.line}`);
    assert.equal(charAt(text, d), ',');
    assert.ok((d.line ?? 0) < text.split('\n').length);
  });

  test('where the read stops does not depend on how much follows', () => {
    for (const unit of [']', '? \n', 'k: v\n', '&a ']) {
      const whole = refusal(flood(LIMIT, unit));
      const half = refusal(flood(Math.floor(LIMIT / 2), unit));
      assert.deepEqual(half, whole, JSON.stringify(unit));
    }
  });

  test('escapes in one string count: the string is refused at its start', () => {
    const d = refusal(flood(LIMIT, '\\q', 'version: 1\nsteps: "', '"\n'));
    assert.deepEqual([d.line, d.col], [2, 8]);
  });

  test('lines of one block string count: the string is refused where its text starts', () => {
    const d = refusal(flood(LIMIT, '\n  x', 'version: 1\nname: >-\n  x'));
    assert.deepEqual([d.line, d.col], [3, 1]);
  });

  test('a file just under the budget is parsed as usual', () => {
    // `x,` is three lexer tokens (a scalar marker, the scalar, the comma): 90% of the budget.
    const items = Math.floor((MAX_YAML_TOKENS * 0.9) / 3);
    const { diagnostics } = lintPipelineSource(`version: 1\nsteps: [${'x,'.repeat(items)}x]\n`, 'big.yml');
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['GBCMS_SCHEMA_TYPE'],
    );
  });

  test('the largest honest pipeline, 1000 steps in almost 1 MiB, is well under the budget', () => {
    const command = (i: number, j: number) =>
      `      - npm run task-${i}-${j} -- --flag=value --other=${'x'.repeat(40)}\n`;
    const step = (i: number) =>
      `  step-${i}:\n    environment: node\n    commands:\n${Array.from({ length: 10 }, (_, j) => command(i, j)).join('')}    env: {A_${i}: "1", B_${i}: "two"}\n`;
    const text = `version: 1\nenvironments:\n  node: {image: node:20}\nsteps:\n${Array.from({ length: 1000 }, (_, i) => step(i)).join('')}`;
    assert.ok(
      text.length > 0.9 * MAX_PIPELINE_BYTES && text.length < MAX_PIPELINE_BYTES,
      String(text.length),
    );
    const { diagnostics, config } = lintPipelineSource(text, 'honest.yml');
    assert.deepEqual(diagnostics, []);
    assert.ok(config);
  });

  test('the error stack limit lowered while parsing is restored, refused or not', () => {
    const before = Error.stackTraceLimit;
    refusal(flood(LIMIT, ']'));
    assert.equal(Error.stackTraceLimit, before);
    lintPipelineSource('version: 1\nsteps: {a: {image: x, commands: [x]}}\n', 'ok.yml');
    assert.equal(Error.stackTraceLimit, before);
  });
});
