// Who may do what to a project. Pure rules; the store's projects.list applies canRead in SQL.
//   read:   admins; anyone, even without a token, on a public project; the owner and members
//           on a private one. A private project is invisible to everyone else: callers answer
//           404, not 403, so its existence does not leak.
//   write:  (start, re-run, terminate executions) admins, the owner and members.
//   manage: (settings, members, webhook secret) admins and the owner.
//   approve a step's gate: those it names (usernames or roles) among readers; when it names
//           nobody, whoever may write.
import type { Project, User } from '../store/schema.ts';

/** The caller: a user from a token, or undefined for an anonymous request. */
export type Actor = Pick<User, 'id' | 'role'> | undefined;

export type ProjectGuard = Pick<Project, 'visibility' | 'owner_id'>;

function isOwner(actor: Actor, project: ProjectGuard): boolean {
  return actor !== undefined && project.owner_id !== null && project.owner_id === actor.id;
}

/** `isMember`: whether the actor is in the project's members (projects.isMember). */
export function canRead(actor: Actor, project: ProjectGuard, isMember: boolean): boolean {
  if (project.visibility === 'public') return true;
  return canWrite(actor, project, isMember);
}

export function canWrite(actor: Actor, project: ProjectGuard, isMember: boolean): boolean {
  if (actor === undefined) return false;
  return actor.role === 'admin' || isOwner(actor, project) || isMember;
}

export function canManage(actor: Actor, project: ProjectGuard): boolean {
  if (actor === undefined) return false;
  return actor.role === 'admin' || isOwner(actor, project);
}

/**
 * Whether `user`, who can read the project, may decide an approval gate naming `approvers`
 * (usernames or server roles); a gate naming nobody is for whoever may start executions.
 */
export function canApprove(
  user: Pick<User, 'username' | 'role'>,
  approvers: readonly string[],
  mayWrite: boolean,
): boolean {
  if (approvers.length === 0) return mayWrite;
  return approvers.includes(user.username) || approvers.includes(user.role);
}
