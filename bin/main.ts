// Entry point of the `gbcms` command: dispatches to one module per subcommand. It sits above
// engine/ and server/ because it reaches both, while engine/ (the library) must never reach
// the server. Commands load on demand, so `gbcms run` and `gbcms validate` never load Fastify
// or SQLite.
import type { CliIO } from '../engine/cli/io.ts';
import { processIO } from '../engine/cli/io.ts';

type Command = (argv: string[], io: CliIO) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: {
    summary: 'check a pipeline file and print every problem with FILE:LINE:COL',
    load: async () => (await import('../engine/cli/validate.ts')).validateCommand,
  },
  plan: {
    summary: 'show which steps would run, in which order, for a trigger',
    load: async () => (await import('../engine/cli/plan.ts')).planCommand,
  },
  run: {
    summary: 'run a pipeline here, in hardened containers (or locally without Docker)',
    load: async () => (await import('../engine/cli/run.ts')).runCommand,
  },
  report: {
    summary: 'report metrics, progress, annotations and the end of an execution, from any language',
    load: async () => (await import('../engine/cli/report.ts')).reportCommand,
  },
  serve: {
    summary: 'start the gbcms server: API, webhooks, live run pages, badges, metrics',
    load: async () => (await import('../server/cli/serve.ts')).serveCommand,
  },
  token: {
    summary: 'create, list and revoke API tokens of a gbcms server',
    load: async () => (await import('../server/cli/token.ts')).tokenCommand,
  },
  secret: {
    summary: 'set, list and remove secrets of a gbcms server; rotate their key',
    load: async () => (await import('../server/cli/secret.ts')).secretCommand,
  },
  project: {
    summary: 'register projects and show their webhook URL and secret',
    load: async () => (await import('../server/cli/project.ts')).projectCommand,
  },
  schedule: {
    summary: "add, list and remove a project's cron schedules",
    load: async () => (await import('../server/cli/schedule.ts')).scheduleCommand,
  },
  runner: {
    summary: 'run executions for a gbcms server on this machine; register, list and revoke runners',
    load: async () => (await import('../server/cli/runner.ts')).runnerCommand,
  },
  hook: {
    summary: 'install a post-receive hook that triggers a gbcms server on git push',
    load: async () => (await import('../server/cli/hook.ts')).hookCommand,
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: gbcms <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'gbcms <command> --help' for a command's options.\n`;
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    const { packageVersion } = await import('../engine/package-info.ts');
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`gbcms: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await command.load())(rest, io);
}
