import type { Direction, KeySelector } from "./types.js";

/**
 * The one ordering every query uses: undefined and null first, then booleans, numbers, strings
 * (by code unit, the same on every machine), then anything else by its string form.
 * Dates compare by time.
 */
export function compareKeys(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ta = rank(a);
  const tb = rank(b);
  if (ta !== tb) return ta - tb;
  if (ta === 3 || ta === 2 || ta === 4) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  if (ta === 5) {
    const ma = (a as Date).getTime();
    const mb = (b as Date).getTime();
    return ma < mb ? -1 : ma > mb ? 1 : 0;
  }
  if (ta <= 1) return 0;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function rank(value: unknown): number {
  if (value === undefined) return 0;
  if (value === null) return 1;
  switch (typeof value) {
    case "boolean":
      return 2;
    case "number":
    case "bigint":
      return 3;
    case "string":
      return 4;
    default:
      return value instanceof Date ? 5 : 6;
  }
}

/** Compares two ids; ties in any ordering are broken by id so every client sorts alike. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Turns a key selector (a function or a dotted path) into a function. */
export function toKeyFunction<T>(selector: KeySelector<T>): (entity: T) => unknown {
  if (typeof selector === "function") return selector;
  const parts = String(selector).split(".");
  if (parts.length === 1) {
    const key = parts[0]!;
    return (entity) => (entity as Record<string, unknown>)[key];
  }
  return (entity) => {
    let value: unknown = entity;
    for (const part of parts) {
      if (value === null || value === undefined) return undefined;
      value = (value as Record<string, unknown>)[part];
    }
    return value;
  };
}

/** A comparator of entities by key (in `direction`), then by id. */
export function entityComparator<T extends { id: string }>(
  key: (entity: T) => unknown,
  direction: Direction = "asc",
): (a: T, b: T) => number {
  const sign = direction === "desc" ? -1 : 1;
  return (a, b) => sign * compareKeys(key(a), key(b)) || compareIds(a.id, b.id);
}
