// `gbcms schedule`: a project's cron schedules, managed on the machine that holds the server's
// data directory (as `gbcms token` does). A running server picks up a new schedule within
// seconds: its scheduler loop reads the same database.
import { parseArgs } from 'node:util';
import type { CliIO } from '../../engine/cli/io.ts';
import { addSchedule, ScheduleInputError } from '../schedules/create.ts';
import type { Store } from '../store/index.ts';
import {
  CommandError,
  DATA_OPTION_HELP,
  DATA_OPTIONS,
  findProject,
  reportErrors,
  resolveDataLocation,
  shortTime,
  table,
  UsageError,
  withExistingStore,
} from './data-commands.ts';

const HELP = `usage: gbcms schedule <command> [options]

commands:
  add PROJECT --cron EXPR [--branch B] [--name N] [--timezone TZ]
                    run PROJECT (id or name) on a cron schedule: EXPR has five fields
                    (minute hour day-of-month month day-of-week, e.g. '0 3 * * 1-5') or is
                    @hourly, @daily, @weekly...; B defaults to the project's default branch, TZ
                    (an IANA name like Europe/Paris) to this machine's zone; prints the schedule id
  list PROJECT      show the project's schedules: id, name, cron, zone, branch, next and last run (UTC)
  rm SCHEDULE_ID    remove a schedule

options:
${DATA_OPTION_HELP}
  -h, --help        this text

exit: 0 done, 1 failed (invalid expression, no such project...), 2 invalid usage
`;

const OPTIONS = {
  cron: { type: 'string' },
  branch: { type: 'string' },
  name: { type: 'string' },
  timezone: { type: 'string' },
  ...DATA_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export function scheduleCommand(argv: string[], io: CliIO): Promise<number> {
  return reportErrors('schedule', HELP, io, async () => {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
    const [command, ...rest] = positionals;
    if (values.help || command === 'help') {
      io.stdout.write(HELP);
      return 0;
    }
    const location = resolveDataLocation(values, io);
    const one = (usage: string) => {
      if (rest.length !== 1 || rest[0] === undefined) throw new UsageError(`usage: gbcms schedule ${usage}`);
      return rest[0];
    };
    switch (command) {
      case 'add': {
        const project = one('add PROJECT --cron EXPR');
        if (values.cron === undefined) throw new UsageError('--cron is required');
        return withExistingStore(location, (store) => add(store, project, values, io));
      }
      case 'list': {
        const project = one('list PROJECT');
        return withExistingStore(location, (store) => list(store, project, io));
      }
      case 'rm': {
        const id = one('rm SCHEDULE_ID');
        return withExistingStore(location, (store) => remove(store, id, io));
      }
      case undefined:
        throw new UsageError('expected a command: add, list or rm');
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  });
}

async function add(store: Store, idOrName: string, values: Values, io: CliIO): Promise<number> {
  const project = await findProject(store, idOrName);
  try {
    const schedule = await addSchedule(
      store,
      project,
      { cron: values.cron ?? '', branch: values.branch, name: values.name, timezone: values.timezone },
      new Date(),
    );
    io.stdout.write(`${schedule.id}\n`);
    io.stderr.write(
      `gbcms schedule: '${schedule.cron}' (${schedule.timezone}) runs ${project.name} on ${schedule.branch}; next run ${shortTime(schedule.next_run_at)} UTC\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ScheduleInputError) throw new CommandError(error.message);
    throw error;
  }
}

async function list(store: Store, idOrName: string, io: CliIO): Promise<number> {
  const project = await findProject(store, idOrName);
  const schedules = await store.schedules.listByProject(project.id);
  if (schedules.length === 0) {
    io.stderr.write(`gbcms schedule: ${project.name} has no schedules\n`);
    return 0;
  }
  const rows = schedules.map((s) => [
    s.id,
    s.name ?? '-',
    s.cron,
    s.timezone,
    s.branch,
    shortTime(s.next_run_at),
    shortTime(s.last_run_at),
  ]);
  io.stdout.write(table(['ID', 'NAME', 'CRON', 'TIME ZONE', 'BRANCH', 'NEXT RUN', 'LAST RUN'], rows));
  return 0;
}

async function remove(store: Store, id: string, io: CliIO): Promise<number> {
  const schedule = await store.schedules.get(id);
  if (!schedule || !(await store.schedules.remove(schedule.project_id, id))) {
    throw new CommandError(`no schedule '${id}'`);
  }
  io.stderr.write(`gbcms schedule: removed ${id} ('${schedule.cron}')\n`);
  return 0;
}
