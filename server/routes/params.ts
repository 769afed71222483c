// Route parameter schemas shared by the API and the pages: an id is what the store hands out
// (at most 64 characters), a step name what a pipeline file may hold.

/** `/:id` of an execution, a project, a session or a schedule's parent. */
export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** `/:id/steps/:name`: an execution and one of its steps. */
export const stepParams = {
  type: 'object',
  required: ['id', 'name'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    name: { type: 'string', minLength: 1, maxLength: 512 },
  },
} as const;
