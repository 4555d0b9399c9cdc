import { KalphiteUsageError } from "./errors.js";
import type { Direction, KeySelector } from "./types.js";

/**
 * The one ordering every query uses: undefined and null first, then booleans, numbers (NaN
 * first), strings (by code unit, the same on every machine), dates (by time), then anything else
 * by its string form.
 *
 * @example [3, "a", undefined, 1].sort(compareKeys) // [1, 3, "a", undefined]: sort() puts undefined last itself
 * @example compareKeys(undefined, 0) // -1
 */
export function compareKeys(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ta = rank(a);
  const tb = rank(b);
  if (ta !== tb) return ta - tb;
  if (ta === 3) return compareNumbers(a as number, b as number);
  if (ta === 2 || ta === 4)
    return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  if (ta === 5) return compareNumbers((a as Date).getTime(), (b as Date).getTime());
  if (ta <= 1) return 0;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * NaN sorts before every other number and equals itself: a comparator that calls NaN equal to
 * everything is inconsistent, and a sorted index searched with it loses rows.
 */
function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  const aIsNaN = Number.isNaN(a);
  const bIsNaN = Number.isNaN(b);
  if (aIsNaN || bIsNaN) return aIsNaN === bIsNaN ? 0 : aIsNaN ? -1 : 1;
  return 0; // a number and a bigint of equal value
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

/**
 * Turns a key selector (a function or a dotted path) into a function; anything else is a usage
 * error naming `what` (the argument, as the user wrote the call).
 */
export function toKeyFunction<T>(selector: KeySelector<T>, what = "key"): (entity: T) => unknown {
  if (typeof selector === "function") return selector;
  if (typeof selector !== "string") {
    throw new KalphiteUsageError(`${what} needs a function or a dotted path.`);
  }
  const parts = String(selector).split(".");
  if (parts.length === 1) {
    const key = parts[0]!;
    return (entity) => (entity as Record<string, unknown>)[key];
  }
  // The common paths ("data.lineNumber", "comment.data.lineNumber") without a loop: a key is
  // read for every row a query sorts, so this is on the path of every subscription.
  if (parts.length === 2) {
    const [first, second] = parts as [string, string];
    return (entity) => {
      const value = (entity as Record<string, unknown>)[first];
      return value === null || value === undefined
        ? undefined
        : (value as Record<string, unknown>)[second];
    };
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

/** Throws the usage error of an `orderBy` direction that is neither "asc" nor "desc". */
export function assertDirection(direction: unknown): asserts direction is Direction {
  if (direction !== "asc" && direction !== "desc") {
    throw new KalphiteUsageError(
      `orderBy direction must be "asc" or "desc", not ${String(direction)}.`,
    );
  }
}

/** A comparator of entities by key (in `direction`), then by id. */
export function entityComparator<T extends { id: string }>(
  key: (entity: T) => unknown,
  direction: Direction = "asc",
): (a: T, b: T) => number {
  const sign = direction === "desc" ? -1 : 1;
  return (a, b) => sign * compareKeys(key(a), key(b)) || compareIds(a.id, b.id);
}
