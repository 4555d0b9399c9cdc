import type { VectorClock } from "./types.js";

/**
 * `user`'s entry in `vector`, 0 if none. Own entries only: a user named "constructor" or
 * "__proto__" must not read Object.prototype's member.
 * @internal
 */
export function entryOf(vector: VectorClock, user: string): number {
  return Object.hasOwn(vector, user) ? (vector[user] ?? 0) : 0;
}

/**
 * Sets `user`'s entry as an own property: assigning `vector["__proto__"]` would replace the
 * object's prototype instead.
 * @internal
 */
export function setEntry(vector: VectorClock, user: string, count: number): void {
  Object.defineProperty(vector, user, {
    value: count,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * True when `a` includes everything `b` does (a ≥ b entry by entry): a change made on version
 * `a` has seen version `b`, so it is not concurrent with it.
 *
 * @example dominates({ ann: 2, bob: 1 }, { ann: 1 }) // true
 */
export function dominates(a: VectorClock, b: VectorClock): boolean {
  for (const user in b) if (entryOf(a, user) < entryOf(b, user)) return false;
  return true;
}

/**
 * True when neither vector includes the other: the two versions were made concurrently.
 *
 * @example isConcurrent({ ann: 1 }, { bob: 1 }) // true
 */
export function isConcurrent(a: VectorClock, b: VectorClock): boolean {
  return !dominates(a, b) && !dominates(b, a);
}

/**
 * The entry-by-entry maximum of two vectors.
 *
 * @example mergeVectors({ ann: 2 }, { ann: 1, bob: 3 }) // { ann: 2, bob: 3 }
 */
export function mergeVectors(a: VectorClock, b: VectorClock): VectorClock {
  const out: VectorClock = { ...a };
  for (const user in b) setEntry(out, user, Math.max(entryOf(out, user), entryOf(b, user)));
  return out;
}

/**
 * A copy of `vector` with `user`'s entry increased by `by`.
 *
 * @example increment({ ann: 1 }, "ann") // { ann: 2 }
 */
export function increment(vector: VectorClock, user: string, by = 1): VectorClock {
  return { ...vector, [user]: entryOf(vector, user) + by };
}

/** True when every entry is a non-negative safe integer (what the protocol accepts). */
export function isVectorClock(value: unknown): value is VectorClock {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  for (const key in value) {
    const n = (value as Record<string, unknown>)[key];
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) return false;
  }
  return true;
}
