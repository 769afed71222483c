// A project's cron schedules: its readers list them, its owner and admins add and remove them.
// What a tick starts is the scheduler's business (server/schedules/scheduler.ts).
import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.ts';
import { errorResponses } from '../../plugins/schemas.ts';
import { addSchedule, MAX_SCHEDULE_NAME, ScheduleInputError } from '../../schedules/create.ts';
import type { Schedule } from '../../store/index.ts';
import { manageProject, readProject, requireActor } from '../access.ts';
import { idParams } from '../params.ts';

interface NewScheduleBody {
  cron: string;
  branch?: string;
  name?: string;
  timezone?: string;
}

export const newScheduleBody = {
  type: 'object',
  required: ['cron'],
  additionalProperties: false,
  properties: {
    cron: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly...',
    },
    branch: {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      description: "default: the project's default branch",
    },
    name: { type: 'string', maxLength: MAX_SCHEDULE_NAME },
    timezone: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: "IANA time zone the expression is read in (Europe/Paris); default: the server's",
    },
  },
} as const;

/** The store's row as the API shows it (who created it stays internal). */
export function scheduleView(schedule: Schedule) {
  const { created_by: _, ...fields } = schedule;
  return fields;
}

/** A schedule the caller's input cannot make, as the 400 routes answer. */
export function scheduleInputHttpError(error: unknown): unknown {
  return error instanceof ScheduleInputError ? errors.invalidSchedule(error.message) : error;
}

const schedulesRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { id: string } }>(
    '/api/projects/:id/schedules',
    {
      schema: {
        summary: "A project's cron schedules, oldest first",
        tags: ['projects', 'schedules'],
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: { $ref: 'Schedule#' } } },
          },
          ...errorResponses(401, 404),
        },
      },
    },
    async (request) => {
      const { project } = await readProject(request, request.params.id);
      const schedules = await app.store.schedules.listByProject(project.id);
      return { items: schedules.map(scheduleView) };
    },
  );

  app.post<{ Params: { id: string }; Body: NewScheduleBody }>(
    '/api/projects/:id/schedules',
    {
      schema: {
        summary:
          'Add a cron schedule (the project owner or admins): each tick starts an execution with event cron',
        tags: ['projects', 'schedules'],
        params: idParams,
        body: newScheduleBody,
        response: { 201: { $ref: 'Schedule#' }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { project } = await manageProject(request, request.params.id);
      const actor = requireActor(request);
      let schedule: Schedule;
      try {
        schedule = await addSchedule(
          app.store,
          project,
          { ...request.body, createdBy: actor.id },
          new Date(),
        );
      } catch (error) {
        throw scheduleInputHttpError(error);
      }
      request.log.info({ project: project.id, schedule: schedule.id, by: actor.id }, 'schedule added');
      return reply.code(201).send(scheduleView(schedule));
    },
  );

  app.delete<{ Params: { id: string; schedule_id: string } }>(
    '/api/projects/:id/schedules/:schedule_id',
    {
      schema: {
        summary: 'Remove a cron schedule (the project owner or admins)',
        tags: ['projects', 'schedules'],
        params: {
          type: 'object',
          required: ['id', 'schedule_id'],
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 64 },
            schedule_id: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
        response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { project } = await manageProject(request, request.params.id);
      if (!(await app.store.schedules.remove(project.id, request.params.schedule_id))) {
        throw errors.scheduleNotFound();
      }
      request.log.info({ project: project.id, schedule: request.params.schedule_id }, 'schedule removed');
      return reply.code(204).send();
    },
  );
};

export default schedulesRoutes;
