import { effect } from "@preact/signals-core";
import { describe, expect, it, vi } from "vitest";
import { KalphiteStore, KalphiteUsageError } from "../../src/core/index.js";
import { countRuns } from "../fixtures/effects.js";
import { comment, Entity } from "../fixtures/schema.js";

function seeded() {
  const errors: unknown[] = [];
  const store = KalphiteStore(Entity, { onError: (error) => errors.push(error) });
  store.comment.upsertMany([
    comment("a", { status: "open", lineNumber: 3, body: "alpha" }, 10),
    comment("b", { status: "resolved", lineNumber: 1, body: "beta" }, 20),
    comment("c", { status: "open", lineNumber: 3, body: "gamma" }, 30),
    comment("d", { status: "open", lineNumber: 7, body: "delta" }, 5),
  ]);
  return { store, errors };
}

describe("live aggregates", () => {
  it("aggregates the whole result: count, sum, avg, min, max, minBy, maxBy", () => {
    const { store } = seeded();
    const stats = store.comment.live
      .where((c) => c.data.status === "open")
      .aggregate(({ count, sum, avg, min, max, minBy, maxBy }) => ({
        open: count(),
        lines: sum("data.lineNumber"),
        meanLine: avg((c) => c.data.lineNumber),
        firstBody: min("data.body"),
        lastUpdate: max("updatedAt"),
        oldest: minBy("updatedAt"),
        latest: maxBy("updatedAt"),
      }));
    const expected = {
      open: 3,
      lines: 13,
      meanLine: 13 / 3,
      firstBody: "alpha",
      lastUpdate: 30,
    };
    expect(stats.value).toMatchObject(expected);
    expect(stats.value.oldest?.id).toBe("d");
    expect(stats.value.latest?.id).toBe("c");
    // Subscribed, then incremental.
    const seen: unknown[] = [];
    const stop = stats.subscribe((s) => seen.push(s.open));
    store.comment.upsert("b", comment("b", { status: "open", lineNumber: 1 }, 40));
    expect(stats.value).toMatchObject({ open: 4, lines: 14, lastUpdate: 40 });
    expect(stats.value.latest?.id).toBe("b");
    store.comment.upsert("a", comment("a", { status: "open", lineNumber: 3, body: "alpha" }, 10));
    expect(seen).toEqual([3, 4]); // the same entity written again changed no aggregate
    store.comment.deleteMany(["a", "b", "c", "d"]);
    expect(stats.value).toEqual({
      open: 0,
      lines: 0,
      meanLine: undefined,
      firstBody: undefined,
      lastUpdate: undefined,
      oldest: undefined,
      latest: undefined,
    });
    stop();
  });

  it("per group, with having, moving rows between groups", () => {
    const { store } = seeded();
    const perLine = store.comment.live
      .where((c) => c.data.status === "open")
      .groupBy("data.lineNumber")
      .aggregate(({ count, maxBy }) => ({ open: count(), latest: maxBy("updatedAt") }));
    const busy = perLine.having((line) => line.open >= 2);
    const shape = (groups: object) =>
      Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, `${v.open}:${v.latest?.id}`]));
    expect(shape(perLine.value)).toEqual({ 3: "2:c", 7: "1:d" });
    expect(Object.getPrototypeOf(perLine.value)).toBe(null);
    expect(shape(busy.value)).toEqual({ 3: "2:c" });
    const seen: object[] = [];
    const stop = busy.subscribe((groups) => seen.push(shape(groups)));
    // d moves from line 7 to 3: 7 disappears, 3 grows.
    store.comment.upsert("d", comment("d", { status: "open", lineNumber: 3 }, 50));
    expect(shape(perLine.value)).toEqual({ 3: "3:d" });
    // Another row on line 7 is not shown by busy: nobody is told.
    store.comment.upsert("e", comment("e", { status: "open", lineNumber: 7 }, 1));
    expect(seen).toEqual([{ 3: "2:c" }, { 3: "3:d" }]);
    stop();
  });

  it("group(key) changes only when that group's aggregates change", () => {
    const { store } = seeded();
    const perLine = store.comment.live
      .groupBy("data.lineNumber")
      .aggregate(({ count }) => ({ n: count() }));
    const line3 = perLine.group(3);
    const runs = countRuns(() => line3.value);
    expect(line3.value).toEqual({ n: 2 });
    store.comment.upsert("x", comment("x", { lineNumber: 9 }));
    store.comment.upsert("a", comment("a", { lineNumber: 3, body: "edited" }));
    expect(runs.runs).toBe(1);
    store.comment.delete("c");
    expect(line3.value).toEqual({ n: 1 });
    store.comment.delete("a");
    expect(line3.value).toBeUndefined();
    expect(runs.runs).toBe(3);
    runs.dispose();
    expect(perLine.group(1).value).toEqual({ n: 1 });
  });

  it("a batch that empties a group and fills it again to the same aggregates notifies nobody", () => {
    const { store } = seeded();
    const perLine = store.comment.live
      .groupBy("data.lineNumber")
      .aggregate(({ count }) => ({ n: count() }));
    const line1 = perLine.group(1);
    const runs = countRuns(() => line1.value);
    const record = countRuns(() => perLine.value);
    store.batch(() => {
      store.comment.delete("b");
      store.comment.upsert("z", comment("z", { lineNumber: 1 }));
    });
    expect(line1.value).toEqual({ n: 1 });
    expect(runs.runs).toBe(1);
    expect(record.runs).toBe(1);
    runs.dispose();
    record.dispose();
  });

  it("keeps each unchanged group's object; unsubscribed reads recompute", () => {
    const { store } = seeded();
    const perStatus = store.comment.live
      .groupBy("data.status")
      .aggregate(({ count, sum }) => ({ n: count(), lines: sum("data.lineNumber") }));
    const before = perStatus.value;
    store.comment.upsert("z", comment("z", { status: "open", lineNumber: 2 }));
    const after = perStatus.value;
    expect(after.open).toEqual({ n: 4, lines: 15 });
    expect(after.resolved).toBe(before.resolved);
    const stop = effect(() => {
      perStatus.value;
    });
    store.comment.upsert("z", comment("z", { status: "open", lineNumber: 4 }));
    expect(perStatus.value.resolved).toBe(before.resolved);
    expect(perStatus.value.open).toEqual({ n: 4, lines: 17 });
    stop();
  });

  it("skips what is not a number for sum/avg and nullish values for min/max", () => {
    const store = KalphiteStore(Entity);
    store.comment.upsertMany([comment("a", { lineNumber: 5 }), comment("b")]);
    const number = (c: { id: string; data: { lineNumber: number } }) =>
      c.id === "a" ? Number.NaN : c.data.lineNumber;
    const stats = store.comment.live.aggregate(({ sum, avg, min }) => ({
      total: sum(number),
      mean: avg((c) => (c.id === "a" ? "5" : number(c))),
      least: min((c) => (c.id === "a" ? undefined : c.data.body)),
    }));
    expect(stats.value).toEqual({ total: 1, mean: 1, least: "body of b" });
  });

  it("sum and avg equal a fresh sum of the rows after the rows that were large leave", () => {
    const store = KalphiteStore(Entity);
    const stats = store.comment.live.aggregate(({ sum, avg }) => ({
      total: sum((c) => c.updatedAt),
      mean: avg((c) => c.updatedAt),
    }));
    const stop = stats.subscribe(() => {});
    store.comment.upsert("big", comment("big", {}, 1e20));
    store.comment.upsert("one", comment("one", {}, 1));
    store.comment.delete("big");
    expect(stats.value).toEqual({ total: 1, mean: 1 });
    store.comment.upsert("a", comment("a", {}, 0.1));
    store.comment.upsert("b", comment("b", {}, 0.2));
    store.comment.delete("a");
    store.comment.delete("one");
    expect(stats.value).toEqual({ total: 0.2, mean: 0.2 });
    stop();
  });

  it("sum and avg read Infinity while the rows' sum overflows, and the exact sum again after", () => {
    const store = KalphiteStore(Entity);
    const stats = store.comment.live.aggregate(({ sum, avg }) => ({
      total: sum((c) => c.updatedAt),
      mean: avg((c) => c.updatedAt),
    }));
    const stop = stats.subscribe(() => {});
    store.comment.upsert("a", comment("a", {}, 1e308));
    store.comment.upsert("b", comment("b", {}, 1e308));
    store.comment.upsert("c", comment("c", {}, 3));
    expect(stats.value).toEqual({ total: Infinity, mean: Infinity });
    store.comment.delete("b");
    expect(stats.value).toEqual({ total: 1e308 + 3, mean: (1e308 + 3) / 2 });
    store.comment.upsert("d", comment("d", {}, -1e308));
    expect(stats.value.total).toBe(3);
    store.comment.upsert("e", comment("e", {}, -1.5e308));
    store.comment.upsert("f", comment("f", {}, -1.5e308));
    expect(stats.value.total).toBe(-Infinity);
    store.comment.delete("e");
    store.comment.delete("f");
    store.comment.delete("a");
    store.comment.delete("d");
    expect(stats.value).toEqual({ total: 3, mean: 3 });
    stop();
  });

  it("a throwing aggregate key goes to onError and changes nothing", () => {
    const { store, errors } = seeded();
    const stats = store.comment.live.aggregate(({ count, max }) => ({
      n: count(),
      top: max((c) => {
        if (c.id === "bad") throw new Error("no key");
        return c.updatedAt;
      }),
    }));
    const listener = vi.fn();
    const stop = stats.subscribe(listener);
    store.comment.upsert("bad", comment("bad"));
    expect(errors).toHaveLength(1);
    expect(stats.value).toMatchObject({ n: 4, top: 30 });
    stop();
  });

  it("rejects bad arguments with a usage error", () => {
    const { store } = seeded();
    expect(() => store.comment.live.aggregate(5 as never)).toThrow(KalphiteUsageError);
    expect(() => store.comment.live.aggregate(() => ({}))).toThrow(KalphiteUsageError);
    expect(() => store.comment.live.aggregate(() => ({ n: 5 }) as never)).toThrow(
      KalphiteUsageError,
    );
    expect(() => store.comment.live.aggregate(({ sum }) => ({ s: sum(4 as never) }))).toThrow(
      /sum\(key\) needs a function or a dotted path/,
    );
    expect(() => store.comment.live.limit(3).aggregate(({ count }) => ({ n: count() }))).toThrow(
      KalphiteUsageError,
    );
    const groups = store.comment.live
      .groupBy("data.status")
      .aggregate(({ count }) => ({ n: count() }));
    expect(() => groups.having("n > 1" as never)).toThrow(KalphiteUsageError);
  });
});
