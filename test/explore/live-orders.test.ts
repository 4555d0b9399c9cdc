import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/index.js";
import { comment, Entity, review } from "../fixtures/schema.js";

function naiveTop(store: ReturnType<typeof KalphiteStore<typeof Entity>>, n: number) {
  return [...store.comment]
    .filter((c) => c.data.status === "open")
    .sort(
      (a, b) => a.data.lineNumber - b.data.lineNumber || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    )
    .slice(0, n)
    .map((c) => c.id);
}

describe("live queries fed by writes in unusual orders", () => {
  it("limit with rows leaving and entering inside one batch", () => {
    const store = KalphiteStore(Entity);
    const q = store.comment.live
      .where((c) => c.data.status === "open")
      .orderBy("data.lineNumber")
      .limit(3);
    const stop = q.subscribe(() => {});
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 300; step++) {
      store.batch(() => {
        for (let k = 0; k < 4; k++) {
          const id = `c${Math.floor(rnd() * 12)}`;
          const r = rnd();
          if (r < 0.3) store.comment.delete(id);
          else
            store.comment.upsert(
              id,
              comment(id, {
                lineNumber: Math.floor(rnd() * 6),
                status: r < 0.6 ? "open" : "resolved",
              }),
            );
        }
      });
      expect(q.value.map((c) => c.id)).toEqual(naiveTop(store, 3));
    }
    stop();
  });

  it("window follows writes before it and inside it", () => {
    const store = KalphiteStore(Entity);
    for (let i = 0; i < 10; i++) store.comment.upsert(`c${i}`, comment(`c${i}`, { lineNumber: i }));
    const w = store.comment.live.orderBy("data.lineNumber").window(3, 3);
    const stop = w.subscribe(() => {});
    expect(w.value.map((c) => c.id)).toEqual(["c3", "c4", "c5"]);
    store.comment.delete("c0");
    expect(w.value.map((c) => c.id)).toEqual(["c4", "c5", "c6"]);
    store.comment.upsert("c9", comment("c9", { lineNumber: -1 }));
    expect(w.value.map((c) => c.id)).toEqual(["c3", "c4", "c5"]);
    w.moveTo(8);
    expect(w.value.map((c) => c.id)).toEqual(["c8"]);
    expect(w.total).toBe(9);
    store.comment.deleteMany(["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]);
    expect(w.value).toEqual([]);
    expect(w.total).toBe(0);
    store.comment.upsert("n", comment("n"));
    expect(w.total).toBe(1);
    stop();
  });

  it("groupBy + aggregate as rows move between groups and groups empty", () => {
    const store = KalphiteStore(Entity);
    const perStatus = store.comment.live
      .groupBy("data.status")
      .aggregate(({ count, sum, max }) => ({
        n: count(),
        s: sum("data.lineNumber"),
        m: max("data.lineNumber"),
      }));
    const stop = perStatus.subscribe(() => {});
    store.comment.upsert("a", comment("a", { lineNumber: 5 }));
    store.comment.upsert("b", comment("b", { lineNumber: 7 }));
    store.comment.upsert("a", comment("a", { lineNumber: 5, status: "resolved" }));
    expect(perStatus.value.open).toEqual({ n: 1, s: 7, m: 7 });
    expect(perStatus.value.resolved).toEqual({ n: 1, s: 5, m: 5 });
    store.comment.delete("b");
    expect(perStatus.value.open).toBeUndefined();
    expect(perStatus.group("open").value).toBeUndefined();
    store.comment.upsert("b", comment("b", { lineNumber: 1 }));
    expect(perStatus.group("open").value).toEqual({ n: 1, s: 1, m: 1 });
    stop();
  });

  it("join sees a right side that arrives after, is deleted and comes back", () => {
    const store = KalphiteStore(Entity);
    const rows = store.comment.live.join(store.review, { on: "data.body" }).orderBy("comment.id");
    const left = store.comment.live
      .join(store.review, { on: "data.body", kind: "left" })
      .orderBy("comment.id");
    const stop1 = rows.subscribe(() => {});
    const stop2 = left.subscribe(() => {});
    store.comment.upsert("c1", comment("c1", { body: "r1" }));
    store.comment.upsert("c2", comment("c2", { body: "r1" }));
    expect(rows.value).toEqual([]);
    expect(left.value.map((r) => [r.comment.id, r.review?.id])).toEqual([
      ["c1", undefined],
      ["c2", undefined],
    ]);
    store.review.upsert("r1", review("r1", "one"));
    expect(rows.value.map((r) => r.review.data.title)).toEqual(["one", "one"]);
    store.review.delete("r1");
    expect(rows.value).toEqual([]);
    store.batch(() => {
      store.review.upsert("r1", review("r1", "two"));
      store.comment.delete("c1");
    });
    expect(rows.value.map((r) => [r.comment.id, r.review.data.title])).toEqual([["c2", "two"]]);
    expect(left.value.map((r) => [r.comment.id, r.review?.data.title])).toEqual([["c2", "two"]]);
    stop1();
    stop2();
  });

  it("join + groupBy + aggregate counts comments per review through re-keys", () => {
    const store = KalphiteStore(Entity);
    const perReview = store.review.live
      .join(store.comment, { on: "id", equals: "data.body", as: "note" })
      .groupBy("review.id")
      .aggregate(({ count }) => ({ comments: count() }));
    const stop = perReview.subscribe(() => {});
    store.review.upsert("r1", review("r1"));
    store.review.upsert("r2", review("r2"));
    store.comment.upsert("c1", comment("c1", { body: "r1" }));
    store.comment.upsert("c2", comment("c2", { body: "r1" }));
    expect(perReview.value.r1).toEqual({ comments: 2 });
    store.comment.upsert("c2", comment("c2", { body: "r2" }));
    expect(perReview.value.r1).toEqual({ comments: 1 });
    expect(perReview.value.r2).toEqual({ comments: 1 });
    store.review.delete("r1");
    expect(perReview.value.r1).toBeUndefined();
    store.review.upsert("r1", review("r1"));
    expect(perReview.value.r1).toEqual({ comments: 1 });
    stop();
  });

  it("a query read without subscribers agrees with one read while subscribed", () => {
    const store = KalphiteStore(Entity);
    const q = store.comment.live.orderBy("updatedAt", "desc").offset(1).limit(2);
    for (let i = 0; i < 5; i++) store.comment.upsert(`c${i}`, comment(`c${i}`, {}, i));
    expect(q.value.map((c) => c.id)).toEqual(["c3", "c2"]);
    const stop = q.subscribe(() => {});
    store.comment.upsert("c0", comment("c0", {}, 10));
    expect(q.value.map((c) => c.id)).toEqual(["c4", "c3"]);
    stop();
    store.comment.delete("c4");
    expect(q.value.map((c) => c.id)).toEqual(["c3", "c2"]);
  });
});
