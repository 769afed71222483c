// Runs gbcms commands in-process with captured output, as a user's terminal would see them.
import { Writable } from 'node:stream';
import { main } from '../../engine/cli/main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString('utf8') });
}

export async function gbcms(
  argv: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  const stdout = capture();
  const stderr = capture();
  const code = await main(argv, { stdout, stderr, cwd: options.cwd, env: { ...options.env, CI: 'true' } });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
