// Whose caches an execution reads and writes (the engine's RunOptions.cacheScope). Two rules:
// a project never shares a cache with another (the id, not the name: a project created
// with a deleted one's name starts cold), and a pull request from a fork never writes a cache
// that the project's own branches read, the hole GitHub Actions' cache poisoning went through.
// A fork gets a tier of its own per fork repository: its pull requests share their caches
// among themselves, and never with the base repository or another fork.
import type { StartExecutionRequest } from './types.ts';

const PROJECT_PREFIX = 'project:';

export function executionCacheScope(
  projectId: string,
  request: Pick<StartExecutionRequest, 'trigger' | 'source'>,
): string {
  const project = `${PROJECT_PREFIX}${projectId}`;
  if (request.trigger.fork !== true) return project;
  // A deleted fork's commit comes from the base's refs/pull/N/head: its head branch names it.
  const from =
    request.source.kind === 'git'
      ? request.source.repo
      : `deleted-fork-branch:${request.trigger.branch ?? ''}`;
  return `${project}:fork:${from}`;
}

/** The project a server scope belongs to, or undefined for scopes the server did not make. */
export function projectOfCacheScope(scope: string): string | undefined {
  if (!scope.startsWith(PROJECT_PREFIX)) return undefined;
  const rest = scope.slice(PROJECT_PREFIX.length);
  const end = rest.indexOf(':');
  const id = end === -1 ? rest : rest.slice(0, end);
  return id === '' ? undefined : id;
}
