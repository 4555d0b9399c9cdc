import type { Direction } from "./types.js";

// What a live query is, apart from how it is kept: its filters, order and page, and the rule for
// which writes can change the rows it shows.

/** The definition of a live query: built by its chained calls, never changed afterwards. */
export interface QuerySpec<T> {
  predicates: readonly ((entity: T) => boolean)[];
  key: ((entity: T) => unknown) | undefined;
  direction: Direction;
  offset: number;
  limit: number;
}

/** The spec of a collection's root query: every entity, ordered by id. */
export const ROOT_SPEC: QuerySpec<never> = {
  predicates: [],
  key: undefined,
  direction: "asc",
  offset: 0,
  limit: Infinity,
};

const matchAll = () => true;
const noKey = () => undefined;

/** The spec's filters as one predicate (the filter itself when there is one). */
export function predicateOf<T>(spec: QuerySpec<T>): (entity: T) => boolean {
  const predicates = spec.predicates;
  if (predicates.length === 0) return matchAll;
  if (predicates.length === 1) return predicates[0]!;
  return (entity) => {
    for (const p of predicates) if (!p(entity)) return false;
    return true;
  };
}

/** The spec's sort key (undefined for every row without `orderBy`: rows are then ordered by id). */
export function keyOf<T>(spec: QuerySpec<T>): (entity: T) => unknown {
  return spec.key ?? noKey;
}

/**
 * Whether a row that left position `oldIndex` and entered `newIndex` (-1: none; positions at or
 * past `offset + limit` may be capped to it) can change the rows shown, [offset, offset + limit).
 * A row that enters or leaves before them shifts them; one that moves within the rows before
 * them, or within the rows after them, does not.
 */
export function changesShown(
  oldIndex: number,
  newIndex: number,
  offset: number,
  limit: number,
): boolean {
  if (limit === 0) return false;
  const end = offset + limit;
  if (oldIndex !== -1 && newIndex !== -1) {
    if (oldIndex < offset && newIndex < offset) return false;
    return oldIndex < end || newIndex < end;
  }
  return (oldIndex === -1 ? newIndex : oldIndex) < end;
}

/** Whether two results hold the same rows in the same order. */
export function sameRows<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
