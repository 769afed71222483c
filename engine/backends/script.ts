// The shell script a step runs, the same on every backend: the commands in order under
// `sh -e`, each echoed as `+ cmd` before it runs. User text only ever appears inside single
// quotes or as the command itself, never spliced into our own shell syntax.

/** Quotes text for POSIX sh: one single-quoted word, inner quotes escaped. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export function stepScript(commands: readonly string[]): string {
  return commands.map((command) => `printf '+ %s\\n' ${shellQuote(command)}\n${command}\n`).join('');
}

/** argv that runs the script: the script is one argument, never parsed by another shell. */
export function stepCommand(commands: readonly string[]): string[] {
  return ['/bin/sh', '-ec', stepScript(commands)];
}
