// `gbcms project`: register and look at projects on the machine that holds the server's data
// directory, without an API token or curl. `create` prints what connecting a repository
// needs: the project id, the webhook URL and its secret.
import { parseArgs } from 'node:util';
import type { CliIO } from '../../engine/cli/io.ts';
import { ProjectExistsError, ProjectInputError, registerProject } from '../projects/register.ts';
import { links } from '../routes/links.ts';
import {
  DEFAULT_STATUS_SETTINGS,
  FORK_PULL_REQUEST_POLICIES,
  type ForkPullRequestPolicy,
  type Project,
  type Store,
  VISIBILITIES,
  type Visibility,
} from '../store/index.ts';
import {
  CommandError,
  DATA_OPTION_HELP,
  DATA_OPTIONS,
  findProject,
  reportErrors,
  resolveDataLocation,
  table,
  UsageError,
  withExistingStore,
} from './data-commands.ts';
import {
  PROJECT_SET_HELP,
  setStatusSettings,
  statusChangeOf,
  statusSettingsRows,
} from './project-statuses.ts';

const HELP = `usage: gbcms project <command> [options]

commands:
  create NAME --repo R [--visibility public|private] [--max-concurrent N] [--branch B]
              [--description D] [--owner USERNAME] [--fork-pull-requests P]
                    register a project (R: a clone URL, or an absolute path on this machine);
                    prints its id, webhook URL and webhook secret
  list              show every project: id, name, visibility, default branch, repository
  show PROJECT      a project (id or name) with its webhook URL and secret
${PROJECT_SET_HELP}
  set PROJECT --fork-pull-requests P
                    P is what pull requests from forks do: approve (wait,
                    blocked, until a project member approves; the default), run (at once)
                    or never (start nothing)

options:
  --url URL         the server's public URL, for full webhook URLs (default: $GBCMS_URL)
${DATA_OPTION_HELP}
  -h, --help        this text

exit: 0 done, 1 failed (name taken, repository refused...), 2 invalid usage
`;

const OPTIONS = {
  repo: { type: 'string' },
  visibility: { type: 'string' },
  'max-concurrent': { type: 'string' },
  branch: { type: 'string' },
  description: { type: 'string' },
  owner: { type: 'string' },
  'step-statuses': { type: 'string' },
  forge: { type: 'string' },
  'forge-repo': { type: 'string' },
  'fork-pull-requests': { type: 'string' },
  url: { type: 'string' },
  ...DATA_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export function projectCommand(argv: string[], io: CliIO): Promise<number> {
  return reportErrors('project', HELP, io, async () => {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
    const [command, ...rest] = positionals;
    if (values.help || command === 'help') {
      io.stdout.write(HELP);
      return 0;
    }
    const location = resolveDataLocation(values, io);
    const base = (values.url ?? io.env.GBCMS_URL ?? '').replace(/\/+$/, '');
    const one = (usage: string) => {
      if (rest.length !== 1 || rest[0] === undefined) throw new UsageError(`usage: gbcms project ${usage}`);
      return rest[0];
    };
    switch (command) {
      case 'create': {
        const name = one('create NAME --repo R');
        if (values.repo === undefined) throw new UsageError('--repo is required');
        return withExistingStore(location, (store) => create(store, name, values, base, io));
      }
      case 'list':
        if (rest.length > 0) throw new UsageError('usage: gbcms project list');
        return withExistingStore(location, (store) => list(store, io));
      case 'show': {
        const project = one('show PROJECT');
        return withExistingStore(location, async (store) => {
          const found = await findProject(store, project);
          io.stdout.write(describe(found, base, await store.statusSettings.get(found.id)));
          return 0;
        });
      }
      case 'set': {
        const project = one(
          'set PROJECT [--fork-pull-requests P] [--step-statuses on|off] [--forge F] [--forge-repo R]',
        );
        const policy = forkPullRequests(values['fork-pull-requests']);
        const statusesGiven = [values['step-statuses'], values.forge, values['forge-repo']].some(
          (value) => value !== undefined,
        );
        if (policy === undefined && !statusesGiven) {
          throw new UsageError(
            'set: give a setting to change: --fork-pull-requests, --step-statuses, --forge or --forge-repo',
          );
        }
        const change = statusesGiven ? statusChangeOf(values) : undefined;
        return withExistingStore(location, async (store) => {
          let found = await findProject(store, project);
          if (policy !== undefined) {
            const updated = await store.projects.update(found.id, { fork_pull_requests: policy });
            if (!updated) throw new CommandError(`project '${project}' is gone`);
            found = updated;
          }
          const settings = change
            ? await setStatusSettings(store, found, change)
            : await store.statusSettings.get(found.id);
          io.stdout.write(describe(found, base, settings));
          return 0;
        });
      }
      case undefined:
        throw new UsageError('expected a command: create, list, show or set');
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  });
}

function visibility(value: string | undefined): Visibility | undefined {
  if (value === undefined) return undefined;
  const found = VISIBILITIES.find((v) => v === value);
  if (!found) throw new UsageError(`--visibility must be ${VISIBILITIES.join(' or ')}, not '${value}'`);
  return found;
}

function forkPullRequests(value: string | undefined): ForkPullRequestPolicy | undefined {
  if (value === undefined) return undefined;
  const found = FORK_PULL_REQUEST_POLICIES.find((p) => p === value);
  if (!found) {
    throw new UsageError(
      `--fork-pull-requests must be ${FORK_PULL_REQUEST_POLICIES.join(', ')}, not '${value}'`,
    );
  }
  return found;
}

function maxConcurrent(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--max-concurrent must be a whole number, not '${value}'`);
  return Number(value);
}

async function create(store: Store, name: string, values: Values, base: string, io: CliIO): Promise<number> {
  let ownerId: string | null = null;
  if (values.owner !== undefined) {
    const owner = await store.users.byUsername(values.owner);
    if (!owner) throw new CommandError(`no user '${values.owner}'`);
    ownerId = owner.id;
  }
  try {
    const project = await registerProject(store, {
      name,
      repo: values.repo ?? '',
      description: values.description,
      default_branch: values.branch,
      visibility: visibility(values.visibility),
      max_concurrent: maxConcurrent(values['max-concurrent']),
      owner_id: ownerId,
      fork_pull_requests: forkPullRequests(values['fork-pull-requests']),
    });
    io.stdout.write(describe(project, base));
    if (base === '') {
      io.stderr.write('gbcms project: give --url (or set GBCMS_URL) to print full webhook URLs\n');
    }
    return 0;
  } catch (error) {
    if (error instanceof ProjectInputError || error instanceof ProjectExistsError) {
      throw new CommandError(error.message);
    }
    throw error;
  }
}

/** `key: value` lines, easy to read and to grep. */
function describe(project: Project, base: string, statuses = DEFAULT_STATUS_SETTINGS): string {
  const urls = links(base);
  const rows: [string, string][] = [
    ['id', project.id],
    ['name', project.name],
    ['repo', project.repo],
    ['visibility', project.visibility],
    ['default branch', project.default_branch],
    ['max concurrent', String(project.max_concurrent)],
    ['fork PRs', project.fork_pull_requests],
    ['page', urls.projectPage(project.id)],
    [
      'webhook URL',
      `${urls.githubHook(project.id)} (GitHub: content type application/json, events push and pull_request)`,
    ],
    ['webhook secret', project.webhook_secret],
    ['git hook URL', urls.gitHook(project.id)],
    ...statusSettingsRows(statuses),
  ];
  return rows.map(([key, value]) => `${`${key}:`.padEnd(16)}${value}\n`).join('');
}

async function list(store: Store, io: CliIO): Promise<number> {
  // The CLI stands for an admin: having the data folder is having every project.
  const projects = await store.projects.list({ id: '', role: 'admin' });
  if (projects.length === 0) {
    io.stderr.write('gbcms project: no projects\n');
    return 0;
  }
  const rows = projects.map((p) => [p.id, p.name, p.visibility, p.default_branch, p.repo]);
  io.stdout.write(table(['ID', 'NAME', 'VISIBILITY', 'BRANCH', 'REPOSITORY'], rows));
  return 0;
}
