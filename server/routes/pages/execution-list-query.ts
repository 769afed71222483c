// The query parameters of a page's executions list. An empty field (the filter form's "any")
// means no filter, so the form can submit every field.
import { STEP_STATUSES } from '../../../engine/status.ts';
import type { ExecutionFilters } from '../../pages/execution-filters.ts';

export interface ExecutionListQuery {
  branch?: string;
  status?: string;
  cursor?: string;
}

export const executionListQuerystring = {
  type: 'object',
  properties: {
    branch: { type: 'string', maxLength: 255 },
    status: { type: 'string', enum: ['', ...STEP_STATUSES] },
    cursor: { type: 'string', minLength: 1, maxLength: 512 },
  },
} as const;

export function listFilters(query: ExecutionListQuery): ExecutionFilters {
  const filters: ExecutionFilters = {};
  const branch = query.branch?.trim();
  if (branch) filters.branch = branch;
  if (query.status) filters.status = query.status as ExecutionFilters['status'] & string;
  return filters;
}
