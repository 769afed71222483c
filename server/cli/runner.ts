// `gbcms runner`: a machine that runs executions for a gbcms server. Without a subcommand it is
// the runner itself (agent/agent.ts), talking to the server over HTTP with its runner token and
// never touching the server's database. `register`, `list` and `revoke` work on the server's
// data folder, like `gbcms token`: having the files is what authorises them.
import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type BackendChoice, selectBackend } from '../../engine/backends/registry.ts';
import type { CliIO } from '../../engine/cli/io.ts';
import { parseSize } from '../../engine/config/units.ts';
import { isRunnerTokenShaped } from '../auth/token-crypto.ts';
import { runAgent } from '../runners/agent/agent.ts';
import { RunnerClient } from '../runners/agent/client.ts';
import { parseServerUrls, ServerList, ServerListError } from '../runners/agent/server-list.ts';
import { DEFAULT_BUFFER_BYTES } from '../runners/agent/spill-buffer.ts';
import { parseLabels, RunnerExistsError, RunnerInputError, registerRunner } from '../runners/register.ts';
import type { DataLocation } from '../store/index.ts';
import {
  CommandError,
  DATA_OPTION_HELP,
  DATA_OPTIONS,
  reportErrors,
  resolveDataLocation,
  shortTime,
  table,
  UsageError,
  withExistingStore,
} from './data-commands.ts';

const HELP = `usage: gbcms runner --server URL[,URL...] --token TOKEN [options]
       gbcms runner register --name NAME [--labels a,b] [--data DIR]
       gbcms runner list [--data DIR]
       gbcms runner revoke NAME [--data DIR]

Runs executions for a gbcms server: claims them over HTTP, runs their steps here with the same
engine as 'gbcms run', and sends logs, reports and artifacts back.

options of the runner:
  --server URL[,URL...]
                    the server (http://ci.example.com:8080), or several servers of one
                    installation, comma-separated: the runner uses the first, and moves on to
                    the next (round robin) when the one it uses refuses or drops the
                    connection, times out or answers 502/503/504; never on a 4xx answer
  --token TOKEN     the runner token 'gbcms runner register' printed (default: $GBCMS_RUNNER_TOKEN)
  --capacity N      executions at once (default 1)
  --labels a,b      labels on top of those it was registered with (runs_on in pipelines)
  --backend B       docker (default) or local
  --name NAME       how this runner calls itself in its own output (default: the host name)
  --data DIR        where it keeps executions while they run (default ./.gbcms-runner)
  --buffer SIZE     output one execution may keep undelivered while the server does not
                    answer, in memory (4 MiB) then in a file under --data (default 256MiB);
                    past it the execution stops

commands on the server's data folder:
  register          register a runner and print its token (alone, on stdout)
  list              show runners: name, labels, created, last seen, revoked
  revoke NAME       revoke a runner's token: it takes nothing more and loses what it runs
${DATA_OPTION_HELP}

exit: 0 done (the runner: stopped by a signal), 1 failed (the token was refused, ...), 2 invalid usage
`;

const OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  capacity: { type: 'string' },
  labels: { type: 'string' },
  backend: { type: 'string' },
  name: { type: 'string' },
  buffer: { type: 'string' },
  ...DATA_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export async function runnerCommand(argv: string[], io: CliIO): Promise<number> {
  return reportErrors('runner', HELP, io, async () => {
    const { values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const [command, ...rest] = positionals;
    if (command === undefined) return runner(values, io);
    const location = resolveDataLocation(values, io);
    switch (command) {
      case 'register':
        return register(values, rest, location, io);
      case 'list':
        return list(rest, location, io);
      case 'revoke':
        return revoke(rest, location, io);
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  });
}

async function runner(values: Values, io: CliIO): Promise<number> {
  let servers: string[];
  try {
    servers = parseServerUrls(values.server);
  } catch (error) {
    if (error instanceof ServerListError) throw new UsageError(error.message);
    throw error;
  }
  const token = values.token ?? process.env.GBCMS_RUNNER_TOKEN;
  if (token === undefined) throw new UsageError('--token (or $GBCMS_RUNNER_TOKEN) is required');
  if (!isRunnerTokenShaped(token)) {
    throw new UsageError("--token is not a runner token ('gbcms runner register' prints one: gbcmsr_...)");
  }
  const capacityText = values.capacity ?? '1';
  if (!/^\d+$/.test(capacityText) || Number(capacityText) < 1 || Number(capacityText) > 1000) {
    throw new UsageError(`--capacity must be a whole number from 1 to 1000, not '${capacityText}'`);
  }
  const labels = labelsOf(values.labels);
  const choice = values.backend ?? 'docker';
  if (choice !== 'docker' && choice !== 'local') {
    throw new UsageError(`--backend must be docker or local, not '${choice}'`);
  }
  const bufferBytes = values.buffer === undefined ? DEFAULT_BUFFER_BYTES : parseSize(values.buffer);
  if (bufferBytes === undefined || bufferBytes < 1024 * 1024) {
    throw new UsageError(
      `--buffer must be a size of at least 1MiB (like 256MiB or 2g), not '${values.buffer}'`,
    );
  }
  const name = values.name ?? process.env.HOSTNAME ?? 'runner';
  const data = values.data ?? '.gbcms-runner';
  const dataDir = isAbsolute(data) ? data : resolve(data);
  let backend: Awaited<ReturnType<typeof selectBackend>>;
  try {
    backend = await selectBackend(choice as BackendChoice, (message) =>
      io.stderr.write(`gbcms runner: ${message}\n`),
    );
  } catch (error) {
    throw new CommandError((error as Error).message);
  }
  const log = (message: string) => io.stderr.write(`gbcms runner ${name}: ${message}\n`);
  const stop = new AbortController();
  const onSignal = () => {
    log('stopping: running executions finish first');
    stop.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const [first, ...others] = servers;
  const then = others.length === 0 ? '' : `, then ${others.join(', ')} should it not answer`;
  log(`connecting to ${first}${then} (capacity ${capacityText}, backend ${backend.name}, data ${dataDir})`);
  const list = new ServerList(servers, (line) => io.stderr.write(`gbcms runner: ${line}\n`));
  try {
    return await runAgent({
      client: new RunnerClient(list, token),
      backend,
      dataDir,
      capacity: Number(capacityText),
      labels,
      bufferBytes,
      log,
      signal: stop.signal,
    });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

function labelsOf(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    return parseLabels(text);
  } catch (error) {
    if (error instanceof RunnerInputError) throw new UsageError(`--labels: ${error.message}`);
    throw error;
  }
}

async function register(values: Values, rest: string[], location: DataLocation, io: CliIO): Promise<number> {
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
  if (values.name === undefined) throw new UsageError('register needs --name NAME');
  const name = values.name;
  const labels = labelsOf(values.labels);
  return withExistingStore(location, async (store) => {
    try {
      const { token } = await registerRunner(store, { name, labels });
      io.stdout.write(`${token}\n`);
      io.stderr.write(`gbcms runner: registered '${name}'; the token is shown once: keep it\n`);
      return 0;
    } catch (error) {
      if (error instanceof RunnerExistsError || error instanceof RunnerInputError) {
        throw new CommandError(error.message);
      }
      throw error;
    }
  });
}

async function list(rest: string[], location: DataLocation, io: CliIO): Promise<number> {
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
  return withExistingStore(location, async (store) => {
    const rows = (await store.runners.list()).map((r) => [
      r.name,
      r.labels.join(',') || '-',
      r.prefix,
      shortTime(r.created_at),
      shortTime(r.last_seen_at),
      r.revoked_at === null ? '-' : shortTime(r.revoked_at),
    ]);
    io.stdout.write(table(['NAME', 'LABELS', 'TOKEN', 'CREATED', 'LAST SEEN', 'REVOKED'], rows));
    return 0;
  });
}

async function revoke(rest: string[], location: DataLocation, io: CliIO): Promise<number> {
  const [name, ...extra] = rest;
  if (name === undefined || extra.length > 0) throw new UsageError('revoke takes one runner NAME');
  return withExistingStore(location, async (store) => {
    const runner = await store.runners.byName(name);
    if (!runner) throw new CommandError(`no runner '${name}'`);
    const revoked = await store.runners.revoke(runner.id);
    io.stderr.write(`gbcms runner: '${name}' ${revoked ? 'revoked' : 'was already revoked'}\n`);
    return 0;
  });
}
