// Every Docker resource gbcms creates carries these labels, so a run's leftovers (or all of
// gbcms's, after a crash) are found by label alone, never by name guessing.
export const LABEL_MANAGED = 'gbcms.managed';
export const LABEL_RUN = 'gbcms.run';
export const LABEL_STEP = 'gbcms.step';
export const LABEL_ROLE = 'gbcms.role';
export const LABEL_BUILD_HASH = 'gbcms.build-hash';
export const LABEL_CACHE = 'gbcms.cache';
export const LABEL_CACHE_SCOPE = 'gbcms.cache.scope';
export const LABEL_CACHE_SLOT = 'gbcms.cache.slot';
export const LABEL_CACHE_KEY = 'gbcms.cache.key';
export const LABEL_SERVICE = 'gbcms.service';

export type ResourceRole = 'step' | 'workspace' | 'seed' | 'service' | 'network';

export function runLabels(runId: string, role: ResourceRole): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_RUN]: runId, [LABEL_ROLE]: role };
}

export function stepLabels(runId: string, stepName: string): Record<string, string> {
  return { ...runLabels(runId, 'step'), [LABEL_STEP]: stepName };
}

/** A step's services and their network: found by run (cleanup) and by step. */
export function stepResourceLabels(
  runId: string,
  stepName: string,
  role: ResourceRole,
): Record<string, string> {
  return { ...runLabels(runId, role), [LABEL_STEP]: stepName };
}

/**
 * A cache volume outlives its run: no run label, so removal by run never finds it, and the
 * cache label keeps it out of the all-gbcms recovery sweep too. Scope and slot let the cache
 * sweep find a scope's volumes and the older keys of a slot (engine/cache.ts).
 */
export function cacheLabels(cache: { scope: string; slot: string; key: string }): Record<string, string> {
  return {
    [LABEL_MANAGED]: 'true',
    [LABEL_CACHE]: 'true',
    [LABEL_CACHE_SCOPE]: cache.scope,
    [LABEL_CACHE_SLOT]: cache.slot,
    [LABEL_CACHE_KEY]: cache.key,
  };
}

/** A `filters` value for Docker's list endpoints. */
export function labelFilter(key: string, value: string): { label: string[] } {
  return { label: [`${key}=${value}`] };
}
