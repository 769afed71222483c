// The argument handling every command shares: parse, answer --help, and turn a usage
// mistake into `gbcms CMD: message` plus the help text with exit code 2.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { CliIO } from './io.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>
>;

/** Parsed arguments, or the exit code when the command is already done (help shown, usage error). */
export function commandArgs<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  help: string,
  io: CliIO,
): Parsed<O> | number {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as Parsed<O>;
  } catch (error) {
    io.stderr.write(`gbcms ${command}: ${error instanceof Error ? error.message : String(error)}\n\n${help}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout.write(help);
    return 0;
  }
  return parsed;
}
