import fc from "fast-check";
import type { FlushChange } from "../../src/flush/index.js";

/** A promise with its resolve/reject exposed, to drive async code by hand. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * An in-memory flush target: applies batches to a Map keyed like the database, records every
 * call, fails while `failing` is set, and takes `latencyMs` (timers) per call.
 */
export function memoryTarget(latencyMs = 0) {
  const rows = new Map<string, unknown>();
  const calls: FlushChange[][] = [];
  const state = { failing: false, failures: 0 };
  const target = async (changes: FlushChange[]) => {
    calls.push(changes);
    // Decide the outcome when the call starts, then take time: writes can interleave with it.
    const failing = state.failing;
    if (latencyMs > 0) await new Promise((resolve) => globalThis.setTimeout(resolve, latencyMs));
    if (failing) {
      state.failures++;
      throw new Error("disk unplugged");
    }
    for (const change of changes) {
      const key = `${change.entityType}/${change.entityId}`;
      if (change.operation === "upsert") rows.set(key, change.entity);
      else rows.delete(key);
    }
  };
  return { rows, calls, state, target };
}

/** One step of a run: a write, a delete, time passing, or the target going down or up. */
export const step = fc.oneof(
  fc.record({
    kind: fc.constant("upsert" as const),
    id: fc.integer({ min: 0, max: 7 }),
    body: fc.string({ maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant("delete" as const), id: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 400 }) }),
  fc.record({ kind: fc.constant("fail" as const), on: fc.boolean() }),
);
