import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/index.js";
import { comment, Entity } from "../fixtures/schema.js";

describe("aggregates through unusual write orders", () => {
  it("sum and avg stay exact as float rows come and go", () => {
    const store = KalphiteStore(Entity);
    const stats = store.comment.live.aggregate(({ sum, avg, count, min, max, minBy, maxBy }) => ({
      s: sum("data.lineNumber"),
      a: avg("data.lineNumber"),
      n: count(),
      lo: min("data.lineNumber"),
      hi: max("data.lineNumber"),
      first: minBy("updatedAt"),
      last: maxBy("updatedAt"),
    }));
    const stop = stats.subscribe(() => {});
    store.comment.upsert("a", comment("a", { lineNumber: 0.1 }, 5));
    store.comment.upsert("b", comment("b", { lineNumber: 0.2 }, 5));
    store.comment.upsert("c", comment("c", { lineNumber: 1e16 }, 1));
    store.comment.delete("c");
    // 1e16 came and went without leaving a rounding residue: the sum of the two doubles, rounded once.
    expect(stats.value.s).toBe(0.1 + 0.2);
    expect(stats.value.n).toBe(2);
    // Ties in minBy/maxBy are broken by id, like every order.
    expect(stats.value.first?.id).toBe("a");
    expect(stats.value.last?.id).toBe("b");
    store.comment.upsert("b", comment("b", { lineNumber: Number.POSITIVE_INFINITY }, 5));
    expect(stats.value.s).toBe(0.1);
    expect(stats.value.hi).toBe(Number.POSITIVE_INFINITY);
    store.comment.deleteMany(["a", "b"]);
    expect(stats.value).toEqual({
      s: 0,
      a: undefined,
      n: 0,
      lo: undefined,
      hi: undefined,
      first: undefined,
      last: undefined,
    });
    stop();
  });

  it("having follows a group crossing its threshold both ways", () => {
    const store = KalphiteStore(Entity);
    const busy = store.comment.live
      .groupBy("data.lineNumber")
      .aggregate(({ count }) => ({ n: count() }))
      .having((g) => g.n >= 2);
    const seen: string[] = [];
    const stop = busy.subscribe((groups) => seen.push(Object.keys(groups).join(",")));
    store.comment.upsert("a", comment("a", { lineNumber: 1 }));
    store.comment.upsert("b", comment("b", { lineNumber: 1 }));
    store.comment.upsert("b", comment("b", { lineNumber: 2 }));
    store.batch(() => {
      store.comment.upsert("c", comment("c", { lineNumber: 2 }));
      store.comment.upsert("d", comment("d", { lineNumber: 1 }));
    });
    expect(seen).toEqual(["", "1", "", "1,2"]);
    expect(busy.group(1).value).toEqual({ n: 2 });
    stop();
  });
});
