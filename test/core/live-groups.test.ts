import { computed, effect } from "@preact/signals-core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compareKeys,
  type Groups,
  KalphiteStore,
  KalphiteUsageError,
  type LiveGroups,
} from "../../src/core/index.js";
import { type Comment, comment, Entity } from "../fixtures/schema.js";

function seeded() {
  const errors: unknown[] = [];
  const store = KalphiteStore(Entity, { onError: (error) => errors.push(error) });
  store.comment.upsertMany([
    comment("a", { status: "open", lineNumber: 3 }, 10),
    comment("b", { status: "resolved", lineNumber: 1 }, 20),
    comment("c", { status: "open", lineNumber: 2 }, 30),
  ]);
  return { store, errors };
}

const ids = (groups: Groups<Comment, PropertyKey>) =>
  Object.fromEntries(Reflect.ownKeys(groups).map((k) => [k, groups[k]!.map((c) => c.id)]));

describe("live.groupBy", () => {
  it("groups the query's rows by a path, each group in the query's order, like Object.groupBy", () => {
    const { store } = seeded();
    const byStatus = store.comment.live.orderBy("updatedAt", "desc").groupBy("data.status");
    expect(ids(byStatus.value)).toEqual({ open: ["c", "a"], resolved: ["b"] });
    expect(Object.getPrototypeOf(byStatus.value)).toBe(null);
    const filtered = store.comment.live.where((c) => c.data.lineNumber < 3).groupBy((c) => c.id);
    expect(ids(filtered.value)).toEqual({ b: ["b"], c: ["c"] });
  });

  it("stays up to date while subscribed: rows move between groups, empty groups disappear", () => {
    const { store } = seeded();
    const seen: Record<string, string[]>[] = [];
    const byStatus = store.comment.live.orderBy("data.lineNumber").groupBy("data.status");
    const stop = byStatus.subscribe((groups) => seen.push(ids(groups)));
    store.comment.upsert("b", comment("b", { status: "open", lineNumber: 1 }, 40));
    store.comment.upsert("d", comment("d", { status: "resolved", lineNumber: 9 }, 50));
    store.comment.delete("a");
    expect(seen).toEqual([
      { open: ["c", "a"], resolved: ["b"] },
      { open: ["b", "c", "a"] },
      { open: ["b", "c", "a"], resolved: ["d"] },
      { open: ["b", "c"], resolved: ["d"] },
    ]);
    stop();
  });

  it("keeps the array of a group that did not change, so readers of that group do not re-run", () => {
    const { store } = seeded();
    const byStatus = store.comment.live.groupBy("data.status");
    const resolved = computed(() => byStatus.value.resolved);
    let runs = 0;
    const stop = effect(() => {
      resolved.value;
      runs++;
    });
    const before = byStatus.value.resolved;
    store.comment.upsert("a", comment("a", { status: "open", body: "edited" }));
    store.comment.upsert("e", comment("e", { status: "open" }));
    expect(byStatus.value.resolved).toBe(before);
    expect(runs).toBe(1);
    store.comment.upsert("b", comment("b", { status: "resolved", body: "edited" }));
    expect(runs).toBe(2);
    stop();
  });

  it("hands back the same record when a batch leaves the groups as they were", () => {
    const { store } = seeded();
    const byStatus = store.comment.live.groupBy("data.status");
    const values: unknown[] = [];
    const stop = byStatus.subscribe((groups) => values.push(groups));
    store.batch(() => {
      store.comment.upsert("z", comment("z", { status: "resolved" }));
      store.comment.delete("z");
    });
    expect(values).toHaveLength(1);
    stop();
  });

  it("works unsubscribed too, recomputing on read", () => {
    const { store } = seeded();
    const byStatus = store.comment.live.groupBy((c) => c.data.lineNumber > 1);
    expect(ids(byStatus.value)).toEqual({ true: ["a", "c"], false: ["b"] });
    store.comment.upsert("b", comment("b", { lineNumber: 7 }));
    expect(ids(byStatus.value)).toEqual({ true: ["a", "b", "c"] });
  });

  it("routes a throwing group key to onError and keeps the groups as they were", () => {
    const { store, errors } = seeded();
    const byBody = store.comment.live.groupBy((c) => {
      if (c.data.body === "boom") throw new Error("bad key");
      return c.data.status;
    });
    const stop = byBody.subscribe(() => {});
    store.comment.upsert("a", comment("a", { body: "boom" }));
    expect(errors).toHaveLength(1);
    expect(store.comment.findById("a")?.data.body).toBe("boom");
    expect(ids(byBody.value)).toEqual({ open: ["a", "c"], resolved: ["b"] });
    stop();
  });

  it("refuses a limit before it and a key that is neither a function nor a path", () => {
    const { store } = seeded();
    expect(() => store.comment.live.limit(5).groupBy("data.status")).toThrow(KalphiteUsageError);
    expect(() => store.comment.live.groupBy(42 as never)).toThrow(KalphiteUsageError);
  });

  it("equals a naive group of a filter and sort after any sequence of writes", () => {
    const write = fc.oneof(
      fc.record({
        kind: fc.constant("upsert" as const),
        id: fc.constantFrom("a", "b", "c", "d", "e", "f"),
        lineNumber: fc.integer({ min: 0, max: 6 }),
        status: fc.constantFrom("open" as const, "resolved" as const),
        updatedAt: fc.integer({ min: 0, max: 5 }),
      }),
      fc.record({ kind: fc.constant("delete" as const), id: fc.constantFrom("a", "b", "c", "f") }),
    );
    const steps = fc.array(fc.oneof(write, fc.array(write, { maxLength: 4 })), { maxLength: 40 });
    fc.assert(
      fc.property(steps, fc.boolean(), (sequence, subscribed) => {
        const store = KalphiteStore(Entity);
        const query = store.comment.live
          .where((c) => c.data.lineNumber !== 3)
          .orderBy("updatedAt", "desc");
        const groups: LiveGroups<Comment, string> = query.groupBy((c) =>
          c.data.lineNumber % 2 === 0 ? c.data.status : "odd",
        );
        const stop = subscribed ? groups.subscribe(() => {}) : () => {};
        const apply = (w: typeof write extends fc.Arbitrary<infer W> ? W : never) => {
          if (w.kind === "delete") store.comment.delete(w.id);
          else
            store.comment.upsert(
              w.id,
              comment(w.id, { lineNumber: w.lineNumber, status: w.status }, w.updatedAt),
            );
        };
        for (const step of sequence) {
          if (Array.isArray(step)) store.batch(() => step.forEach(apply));
          else apply(step);
          const expected: Record<string, string[]> = {};
          const rows = [...store.comment]
            .filter((c) => c.data.lineNumber !== 3)
            .sort((x, y) => compareKeys(y.updatedAt, x.updatedAt) || (x.id < y.id ? -1 : 1));
          for (const c of rows) {
            const name = c.data.lineNumber % 2 === 0 ? c.data.status : "odd";
            (expected[name] ??= []).push(c.id);
          }
          expect(ids(groups.value)).toEqual(expected);
        }
        stop();
      }),
      { numRuns: 300 },
    );
  });
});
