import { SortedIndex } from "./sorted-index.js";
import type { Row } from "./types.js";

/**
 * Every entity of `values` that matches, sorted by (key in direction, id), with its key. Keys are
 * computed once per entity, not per comparison, and positions are sorted rather than rows. Arrays
 * are filled by push: a large `new Array(n)` can start in V8's slow dictionary mode.
 */
export function sortedMatches<T extends Row>(
  values: ReadonlyMap<string, T>,
  predicate: (entity: T) => boolean,
  key: (entity: T) => unknown,
  descending: boolean,
): { rows: T[]; keys: unknown[] } {
  const matches: T[] = [];
  const matchKeys: unknown[] = [];
  for (const entity of values.values()) {
    if (predicate(entity)) {
      matches.push(entity);
      matchKeys.push(key(entity));
    }
  }
  const order: number[] = [];
  for (let i = 0; i < matches.length; i++) order.push(i);
  const comparator = new SortedIndex<T>(descending);
  order.sort(positionComparator(comparator, matchKeys, matches, descending ? -1 : 1));
  const rows: T[] = [];
  const keys: unknown[] = [];
  for (const position of order) {
    rows.push(matches[position]!);
    keys.push(matchKeys[position]);
  }
  return { rows, keys };
}

/**
 * Compares positions into `keys`/`rows` in the index's order. When every key is a number (the
 * common case: timestamps, counters) the keys go into a Float64Array and compare directly, which
 * makes the initial sort of a subscription several times faster than the generic comparison.
 */
function positionComparator<T extends Row>(
  index: SortedIndex<T>,
  keys: readonly unknown[],
  rows: readonly T[],
  sign: number,
): (a: number, b: number) => number {
  const numeric = new Float64Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (typeof key !== "number" || Number.isNaN(key)) {
      return (a, b) => index.compare(keys[a], rows[a]!.id, keys[b], rows[b]!.id);
    }
    numeric[i] = key;
  }
  return (a, b) => {
    const ka = numeric[a]!;
    const kb = numeric[b]!;
    if (ka !== kb) return ka < kb ? -sign : sign;
    const ia = rows[a]!.id;
    const ib = rows[b]!.id;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  };
}
