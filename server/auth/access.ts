// One call for routes: the project and what the caller may do with it.
import type { ProjectRepo } from '../store/projects.ts';
import type { Project } from '../store/schema.ts';
import { type Actor, canManage, canRead, canWrite } from './permissions.ts';

export interface ProjectAccess {
  project: Project;
  /** Always true: an unreadable project comes back as undefined. */
  read: true;
  write: boolean;
  manage: boolean;
}

/**
 * The project with the caller's rights, or undefined when it does not exist or the caller may
 * not read it: both answer 404, so private project ids cannot be probed.
 */
export async function projectAccess(
  projects: ProjectRepo,
  actor: Actor,
  projectId: string,
): Promise<ProjectAccess | undefined> {
  const project = await projects.get(projectId);
  if (!project) return undefined;
  // Membership only matters to a signed-in non-admin who does not own the project.
  const needsMembership = actor !== undefined && actor.role !== 'admin' && project.owner_id !== actor.id;
  const isMember = needsMembership ? await projects.isMember(project.id, actor.id) : false;
  if (!canRead(actor, project, isMember)) return undefined;
  return {
    project,
    read: true,
    write: canWrite(actor, project, isMember),
    manage: canManage(actor, project),
  };
}
