// Kysely builds and compiles a query afresh on every call: immutable operation nodes, a visitor
// pass, frozen objects. For the lookups every read request makes (an execution, its project,
// its steps) that costs several times what SQLite takes to answer them. A reused query is
// compiled once, with stand-in values, and each call runs that SQL with its own values in
// their places; the statement cache then finds the same text and skips preparing it too.
import type { Compilable, CompiledQuery, Kysely } from 'kysely';

/** A value no caller passes: where it lands in the compiled parameters is where argument `i` goes. */
const standIn = (i: number) => `\u0000gbcms-reused-query-argument-${i}\u0000`;

/**
 * `build` must use each argument as a plain value (compared, not spliced into SQL) and build
 * the same query shape whatever the values: its shape is fixed at the first call.
 */
export function reusedQuery<DB, A extends readonly unknown[], R>(
  db: Kysely<DB>,
  build: (...args: A) => Compilable<R>,
): (...args: A) => Promise<R[]> {
  let compiled: CompiledQuery<R> | undefined;
  /** For each compiled parameter: the argument it comes from, or -1 for a constant of the query. */
  let sources: number[] = [];
  return async (...args) => {
    if (compiled === undefined) {
      const standIns = args.map((_, i) => standIn(i)) as unknown as A;
      compiled = build(...standIns).compile();
      sources = compiled.parameters.map((value) =>
        typeof value === 'string' ? args.findIndex((_, i) => standIn(i) === value) : -1,
      );
    }
    const template = compiled;
    const parameters = sources.map((source, i) => (source === -1 ? template.parameters[i] : args[source]));
    const result = await db.executeQuery<R>({ ...template, parameters });
    return result.rows;
  };
}
