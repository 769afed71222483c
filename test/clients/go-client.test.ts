// The Go client (clients/go): `go test` against a real `gbcms serve` it starts, with the
// module proxy off: the module needs the standard library only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { HANG_MS } from '../helpers/poll.ts';

const client = join(import.meta.dirname, '..', '..', 'clients', 'go');
const TESTS = 9;

test('the Go client passes its suite against gbcms serve', { timeout: HANG_MS }, async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod' };
  delete env.GBCMS_STEP;
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn('go', ['test', '-count=1', '-v', './...'], { cwd: client, env });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (exit) => resolve({ code: exit, output: text }));
  });
  assert.equal(code, 0, output);
  // Every test ran and passed: none skipped.
  assert.equal(output.match(/^--- PASS: /gm)?.length, TESTS, output);
  assert.doesNotMatch(output, /--- SKIP/);
});
