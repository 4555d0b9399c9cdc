import type { VectorClock } from "./types.js";

/**
 * True when `a` includes everything `b` does (a ≥ b entry by entry): a change made on version
 * `a` has seen version `b`, so it is not concurrent with it.
 *
 * @example dominates({ ann: 2, bob: 1 }, { ann: 1 }) // true
 */
export function dominates(a: VectorClock, b: VectorClock): boolean {
  for (const user in b) if ((a[user] ?? 0) < (b[user] ?? 0)) return false;
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
  for (const user in b) out[user] = Math.max(out[user] ?? 0, b[user] ?? 0);
  return out;
}

/**
 * A copy of `vector` with `user`'s entry increased by `by`.
 *
 * @example increment({ ann: 1 }, "ann") // { ann: 2 }
 */
export function increment(vector: VectorClock, user: string, by = 1): VectorClock {
  return { ...vector, [user]: (vector[user] ?? 0) + by };
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
