// Secrets between the API and the runs: values go in sealed, come out only for a run that may
// have them, and never come out anywhere else. The key is read on every use rather than kept,
// so a running server follows a key rotation done by `gbcms secret rotate-key`.
import type { Trigger, TriggerEvent } from '../../engine/plan.ts';
import type { SecretInfo, SecretRepo, StoredSecret } from '../store/index.ts';
import { open, seal } from './crypto.ts';
import { type SecretLimits, secretRefusal } from './policy.ts';

/** A stored value does not open with the current key (a wrong key, or a row that was altered). */
export class SecretUnreadableError extends Error {
  constructor(name: string) {
    super(`secret ${name} cannot be decrypted with the current secret key`);
    this.name = 'SecretUnreadableError';
  }
}

export type SecretScope = { kind: 'global' } | { kind: 'project'; projectId: string };

export const GLOBAL_SCOPE_KEY = 'global';

export function scopeKey(scope: SecretScope): string {
  return scope.kind === 'global' ? GLOBAL_SCOPE_KEY : `project:${scope.projectId}`;
}

export type KeySource = () => Promise<Buffer>;

export interface NewSecret {
  name: string;
  value: string;
  limits: SecretLimits;
  /** Who sets it, for listings. */
  by: string;
}

/** What a run is given: values to inject and mask, refusals for the engine, names for the audit. */
export interface RunSecrets {
  values: Record<string, string>;
  refusals: Record<string, string>;
  given: { scope_key: string; name: string }[];
}

/** A secret as every read path shows it. */
export interface SecretView {
  name: string;
  scope: 'global' | 'project';
  project_id: string | null;
  events: TriggerEvent[] | null;
  branches: string[] | null;
  updated_by: string;
  created_at: string;
  updated_at: string;
}

export function secretView(info: SecretInfo): SecretView {
  return {
    name: info.name,
    scope: info.project_id === null ? 'global' : 'project',
    project_id: info.project_id,
    events: parseList(info.events) as TriggerEvent[] | null,
    branches: parseList(info.branches),
    updated_by: info.updated_by,
    created_at: info.created_at,
    updated_at: info.updated_at,
  };
}

function parseList(text: string | null): string[] | null {
  return text === null ? null : (JSON.parse(text) as string[]);
}

function listText(list: readonly string[] | null): string | null {
  return list === null ? null : JSON.stringify(list);
}

/** What runs need of the vault (tests may stand in for it). */
export type RunSecretSource = Pick<SecretVault, 'forRun'>;

export class SecretVault {
  readonly #repo: SecretRepo;
  readonly #key: KeySource;
  readonly #now: () => string;

  constructor(repo: SecretRepo, key: KeySource, now: () => string = () => new Date().toISOString()) {
    this.#repo = repo;
    this.#key = key;
    this.#now = now;
  }

  async set(scope: SecretScope, secret: NewSecret): Promise<void> {
    const key = scopeKey(scope);
    const sealed = seal(await this.#key(), key, secret.name, secret.value);
    await this.#repo.put({
      scope_key: key,
      project_id: scope.kind === 'project' ? scope.projectId : null,
      name: secret.name,
      ...sealed,
      events: listText(secret.limits.events),
      branches: listText(secret.limits.branches),
      updated_by: secret.by,
      updated_at: this.#now(),
    });
  }

  /**
   * The secrets `names` for a run of the project on `trigger`: a project secret wins over a
   * global one of the same name. A name with no secret is left out (the engine says it is not
   * set); one the trigger may not have gets a refusal and no value.
   */
  /**
   * A secret's value for the server's own use (the token it posts commit statuses with): the
   * project's, else the global one. It never reaches a step, so a step's event and branch
   * limits do not apply. Undefined when neither scope has it.
   */
  async serverValue(projectId: string, name: string): Promise<string | undefined> {
    const projectKey = scopeKey({ kind: 'project', projectId });
    const rows = await this.#repo.find([projectKey, GLOBAL_SCOPE_KEY], [name]);
    const row = rows.find((r) => r.scope_key === projectKey) ?? rows[0];
    if (!row) return undefined;
    try {
      return open(await this.#key(), row.scope_key, row.name, row);
    } catch {
      throw new SecretUnreadableError(name);
    }
  }

  async forRun(projectId: string, trigger: Trigger, names: readonly string[]): Promise<RunSecrets> {
    const result: RunSecrets = { values: {}, refusals: {}, given: [] };
    const wanted = [...new Set(names)];
    if (wanted.length === 0) return result;
    const projectKey = scopeKey({ kind: 'project', projectId });
    const rows = await this.#repo.find([projectKey, GLOBAL_SCOPE_KEY], wanted);
    const chosen = new Map<string, StoredSecret>();
    for (const row of rows) {
      if (row.scope_key === projectKey || !chosen.has(row.name)) chosen.set(row.name, row);
    }
    let key: Buffer | undefined;
    for (const name of wanted) {
      const row = chosen.get(name);
      // A fork learns nothing, not even which secrets exist.
      const limits: SecretLimits = row
        ? { events: parseList(row.events) as TriggerEvent[] | null, branches: parseList(row.branches) }
        : { events: null, branches: null };
      const refusal = secretRefusal(name, limits, trigger);
      if (refusal !== undefined) {
        result.refusals[name] = refusal;
        continue;
      }
      if (!row) continue;
      key ??= await this.#key();
      try {
        result.values[name] = open(key, row.scope_key, row.name, row);
      } catch {
        // A rotation may have just replaced the key file: read it again once before giving up.
        key = await this.#key();
        try {
          result.values[name] = open(key, row.scope_key, row.name, row);
        } catch {
          throw new SecretUnreadableError(name);
        }
      }
      result.given.push({ scope_key: row.scope_key, name });
    }
    return result;
  }
}

/**
 * Re-seals every value from `oldKey` to `newKey` in one transaction; throws (and changes
 * nothing) if any value does not open with the old key. Returns how many were re-sealed.
 */
export function resealAll(repo: SecretRepo, oldKey: Buffer, newKey: Buffer): Promise<number> {
  return repo.resealAll((row) =>
    seal(newKey, row.scope_key, row.name, open(oldKey, row.scope_key, row.name, row)),
  );
}
