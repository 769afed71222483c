// Concurrency group names: `deploy-${{ branch }}` filled in from the trigger (and, in a step,
// `${{ matrix.AXIS }}` from its combination). Shared by the linter, which reports every
// reference this cannot fill, and by the compiler, which fills them: what lints compiles.
import type { Combination } from './matrix.ts';

/** What a group may name, besides `matrix.AXIS` in a step. Each is the trigger's, or ''. */
export const GROUP_VARIABLES = ['branch', 'tag', 'event', 'commit', 'pipeline'] as const;
export type GroupVariable = (typeof GROUP_VARIABLES)[number];
export type GroupValues = Readonly<Record<GroupVariable, string>>;

/** One `${{ ... }}` in a group: its text between the braces, trimmed, and where it starts. */
export interface GroupReference {
  name: string;
  index: number;
}

const REFERENCE = /\$\{\{([^}]*)\}\}/g;

/** Every `${{ ... }}` of a group name, in order. */
export function groupReferences(group: string): GroupReference[] {
  return Array.from(group.matchAll(REFERENCE), (match) => ({
    name: (match[1] ?? '').trim(),
    index: match.index,
  }));
}

/** A `${{` that no `}}` closes: the text would be used as written, which is never meant. */
export function unclosedReference(group: string): boolean {
  return group.replace(REFERENCE, '').includes('${{');
}

/** `matrix.node` -> `node`; undefined for anything else. */
export function matrixAxisOf(name: string): string | undefined {
  return /^matrix\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(name)?.[1];
}

export function isGroupVariable(name: string): name is GroupVariable {
  return (GROUP_VARIABLES as readonly string[]).includes(name);
}

/**
 * The group's name for a trigger (and a matrix combination). A variable the trigger lacks (the
 * tag of a branch push) is empty; the linter has rejected every name this cannot fill.
 */
export function renderGroup(group: string, values: GroupValues, combination?: Combination): string {
  return group.replace(REFERENCE, (whole, inner: string) => {
    const name = inner.trim();
    if (isGroupVariable(name)) return values[name];
    const axis = matrixAxisOf(name);
    const value = axis === undefined ? undefined : combination?.[axis];
    if (value === undefined) throw new Error(`concurrency group '${group}': cannot fill ${whole}`);
    return value;
  });
}
