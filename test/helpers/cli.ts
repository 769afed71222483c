// Runs gbcms commands in-process with captured output, as a user's terminal would see them.
import { Writable } from 'node:stream';
import { main } from '../../bin/main.ts';
import type { CliIO } from '../../engine/cli/io.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Command = (argv: string[], io: CliIO) => Promise<number>;

/** A stream that keeps what is written to it; `text()` reads it back. */
export function capture(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString('utf8') });
}

/** Runs one command module with captured output and exactly the environment given (none by default). */
export async function runCommand(
  command: Command,
  argv: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  const stdout = capture();
  const stderr = capture();
  const code = await command(argv, { stdout, stderr, cwd: options.cwd, env: options.env ?? {} });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

export async function gbcms(
  argv: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  return runCommand(main, argv, { cwd: options.cwd, env: { ...options.env, CI: 'true' } });
}
