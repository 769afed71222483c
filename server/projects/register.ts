// Registering a project, the same way from the API, the New project page and the CLI: the
// input checked field by field, then stored with a fresh webhook secret.
import { refNameProblem } from '../git/ref-name.ts';
import { checkRepoSource } from '../git/url-policy.ts';
import {
  type ForkPullRequestPolicy,
  NameTakenError,
  type Project,
  type Store,
  type Visibility,
} from '../store/index.ts';

export interface ProjectInput {
  name: string;
  repo: string;
  description?: string | null | undefined;
  default_branch?: string | undefined;
  visibility?: Visibility | undefined;
  max_concurrent?: number | undefined;
  owner_id?: string | null | undefined;
  fork_pull_requests?: ForkPullRequestPolicy | undefined;
}

/** Executions of one project running at once; more wait as pending. */
export const MAX_CONCURRENT_LIMIT = 100;
export const MAX_PROJECT_NAME = 100;
/** Printable, no leading or trailing space: names show up in pages, logs and badges. */
export const PROJECT_NAME_PATTERN = '^\\S(?:[^\\u0000-\\u001f\\u007f]*\\S)?$';

/** Input a project cannot be made from; `message` names the field. Routes answer 400. */
export class ProjectInputError extends Error {
  constructor(
    readonly field: 'name' | 'repo' | 'default_branch' | 'max_concurrent',
    message: string,
  ) {
    super(message);
    this.name = 'ProjectInputError';
  }
}

/** The name is taken. Routes answer 409. */
export class ProjectExistsError extends Error {
  constructor(readonly projectName: string) {
    super(`a project named '${projectName}' exists`);
    this.name = 'ProjectExistsError';
  }
}

/** Only admins register projects, so an absolute path on the server is an acceptable source. */
export async function registerProject(store: Pick<Store, 'projects'>, input: ProjectInput): Promise<Project> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_PROJECT_NAME || !new RegExp(PROJECT_NAME_PATTERN).test(name)) {
    throw new ProjectInputError('name', `name must be 1 to ${MAX_PROJECT_NAME} printable characters`);
  }
  const repo = checkRepoSource(input.repo.trim(), { allowLocalPaths: true });
  if (!repo.ok) throw new ProjectInputError('repo', `repo refused: ${repo.reason}`);
  if (input.default_branch !== undefined) {
    const problem = refNameProblem(input.default_branch);
    if (problem) throw new ProjectInputError('default_branch', `default_branch ${problem}`);
  }
  const limit = input.max_concurrent;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_CONCURRENT_LIMIT)) {
    throw new ProjectInputError(
      'max_concurrent',
      `max_concurrent must be a whole number from 1 to ${MAX_CONCURRENT_LIMIT}`,
    );
  }
  if (await store.projects.byName(name)) throw new ProjectExistsError(name);
  try {
    return await store.projects.create({
      name,
      repo: repo.value,
      description: input.description ?? null,
      owner_id: input.owner_id ?? null,
      ...(input.default_branch !== undefined ? { default_branch: input.default_branch } : {}),
      ...(input.visibility !== undefined ? { visibility: input.visibility } : {}),
      ...(limit !== undefined ? { max_concurrent: limit } : {}),
      ...(input.fork_pull_requests !== undefined ? { fork_pull_requests: input.fork_pull_requests } : {}),
    });
  } catch (error) {
    // Two admins racing for one name: the unique index decides.
    if (error instanceof NameTakenError) throw new ProjectExistsError(name);
    throw error;
  }
}
