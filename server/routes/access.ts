// Access checks routes share. Order matters for what a caller learns: a write without a
// token is 401 before anything is looked up; a project or execution the caller may not read
// is 404 exactly like one that does not exist; 403 only where the caller can already see it.
import type { FastifyRequest } from 'fastify';
import { type ProjectAccess, projectAccess } from '../auth/access.ts';
import { errors } from '../errors.ts';
import type { Execution, User } from '../store/index.ts';

export function requireActor(request: FastifyRequest): User {
  if (!request.actor) throw errors.unauthorized();
  return request.actor;
}

export async function readProject(request: FastifyRequest, projectId: string): Promise<ProjectAccess> {
  const access = await projectAccess(request.server.store.projects, request.actor, projectId);
  if (!access) throw errors.projectNotFound();
  return access;
}

export interface ExecutionAccess {
  execution: Execution;
  access: ProjectAccess;
}

export async function readExecution(request: FastifyRequest, executionId: string): Promise<ExecutionAccess> {
  const execution = await request.server.store.executions.get(executionId);
  if (!execution) throw errors.executionNotFound();
  const access = await projectAccess(request.server.store.projects, request.actor, execution.project_id);
  if (!access) throw errors.executionNotFound();
  return { execution, access };
}

export function requireWrite(access: ProjectAccess): void {
  if (!access.write) throw errors.forbidden('only the project owner, its members and admins may do this');
}

/** For writes: a token first (401), then visibility (404), then the right to write (403). */
export async function writeExecution(request: FastifyRequest, executionId: string): Promise<ExecutionAccess> {
  requireActor(request);
  const found = await readExecution(request, executionId);
  requireWrite(found.access);
  return found;
}

/**
 * An execution a session key may report to: one of the key's session. Any other is 404, like
 * one that does not exist, so a key learns nothing about the rest of the server.
 */
export async function sessionKeyExecution(request: FastifyRequest, executionId: string): Promise<Execution> {
  const grant = request.sessionKey;
  const execution = grant ? await request.server.store.executions.get(executionId) : undefined;
  if (!execution || execution.session_id !== grant?.session.id) throw errors.executionNotFound();
  return execution;
}

/** For reports, heartbeats and the end of an external execution: a session key of its session, or a writer. */
export async function reportExecution(request: FastifyRequest, executionId: string): Promise<Execution> {
  if (request.sessionKey) return sessionKeyExecution(request, executionId);
  return (await writeExecution(request, executionId)).execution;
}

export async function writeProject(request: FastifyRequest, projectId: string): Promise<ProjectAccess> {
  requireActor(request);
  const access = await readProject(request, projectId);
  requireWrite(access);
  return access;
}

/** For settings and members: a token (401), then visibility (404), then the right to manage (403). */
export async function manageProject(request: FastifyRequest, projectId: string): Promise<ProjectAccess> {
  requireActor(request);
  const access = await readProject(request, projectId);
  if (!access.manage) throw errors.forbidden('only the project owner and admins may do this');
  return access;
}
