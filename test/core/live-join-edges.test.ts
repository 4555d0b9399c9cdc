// Joins at their edges: a grouping over a join, no-op writes, a query stopped mid-write, and
// names that clash in a join of a join.
import { describe, expect, it } from "vitest";
import { KalphiteStore, KalphiteUsageError } from "../../src/core/index.js";
import { ThreadEntity, threadComment, threadReview } from "./support/threads.js";

function seeded() {
  const errors: unknown[] = [];
  const store = KalphiteStore(ThreadEntity, { onError: (error) => errors.push(error) });
  store.review.upsert("r1", threadReview("r1"));
  store.comment.upsert("c1", threadComment("c1", { reviewId: "r1" }));
  return { store, errors };
}

describe("a grouping over a join", () => {
  it("holds the join's own row objects when subscribed before the join", () => {
    const { store } = seeded();
    const joined = store.comment.live.join(store.review, { on: "data.reviewId" });
    const byStatus = joined.groupBy("comment.data.status");
    const stops = [byStatus.subscribe(() => {}), joined.subscribe(() => {})];
    expect(byStatus.value.open?.[0]).toBe(joined.value[0]);
    for (const stop of stops) stop();
  });
});

describe("a join written the very object it holds", () => {
  it("notifies nobody, as a plain query", () => {
    const { store } = seeded();
    const joined = store.comment.live.join(store.review, { on: "data.reviewId" });
    let runs = 0;
    const stop = joined.subscribe(() => runs++);
    runs = 0;
    const before = joined.value;
    store.comment.upsert("c1", store.comment.findById("c1")!);
    store.review.upsert("r1", store.review.findById("r1")!);
    expect(runs).toBe(0);
    expect(joined.value).toBe(before);
    stop();
  });
});

describe("a join whose last query stops during a write", () => {
  it("stops taking in that write, without an error, even when started afresh", () => {
    const { store, errors } = seeded();
    store.review.upsert("r2", threadReview("r2"));
    const joined = store.comment.live.join(store.review, {
      on: "data.lineNumber",
      equals: "updatedAt",
    });
    const changes: unknown[] = [];
    let again = () => {};
    const stop = joined.subscribeChanges((change) => {
      changes.push(change);
      stop(); // "stop after the first change"
      again = joined.subscribe(() => {});
    });
    // Two joined rows from one write: (c2, r1) and (c2, r2).
    store.comment.upsert("c2", threadComment("c2", { lineNumber: 1 }));
    expect(errors).toEqual([]);
    expect(changes).toHaveLength(1);
    expect(joined.value.map((row) => row.id.replace("\u0000", "-"))).toEqual([
      "c1-r1",
      "c1-r2",
      "c2-r1",
      "c2-r2",
    ]);
    again();
  });
});

describe("a join of a join", () => {
  it("refuses a right side named as a part of the left rows", () => {
    const { store } = seeded();
    const withReview = store.comment.live.join(store.review, { on: "data.reviewId" });
    expect(() =>
      withReview.join(store.comment, { on: "review.id", equals: "data.reviewId" }),
    ).toThrow(KalphiteUsageError);
    expect(() => withReview.join(store.review, { on: "review.id" })).toThrow(KalphiteUsageError);
    const named = withReview.join(store.comment, {
      on: "review.id",
      equals: "data.reviewId",
      as: "sibling",
    });
    expect(named.value.map((row) => [row.comment.id, row.review.id, row.sibling.id])).toEqual([
      ["c1", "r1", "c1"],
    ]);
  });
});

describe("a join read by a query without subscribers", () => {
  it("is current after a write that a change listener saw half-way", () => {
    const { store } = seeded();
    store.comment.upsertMany([
      threadComment("a", { reviewId: "r1" }),
      threadComment("c", { reviewId: "r1" }),
    ]);
    const joined = store.comment.live.join(store.review, { on: "data.reviewId" });
    const unwatched = joined.orderBy("comment.id");
    const seen: string[][] = [];
    const stop = joined.subscribeChanges(() => {
      seen.push(unwatched.value.map((row) => row.comment.id));
    });
    store.review.delete("r1");
    const naive = [...store.comment.values()]
      .filter((c) => c.data.reviewId !== undefined && store.review.findById(c.data.reviewId))
      .map((c) => c.id)
      .sort();
    expect(unwatched.value.map((row) => row.comment.id)).toEqual(naive);
    stop();
  });
});

describe("a join whose right side is a join", () => {
  it("needs the as option, and nests the joined rows under it", () => {
    const { store } = seeded();
    const inner = store.comment.live.join(store.review, { on: "data.reviewId" });
    // @ts-expect-error: as is required
    expect(() => store.review.live.join(inner, { on: "id", equals: "review.id" })).toThrow(
      KalphiteUsageError,
    );
    const nested = store.review.live.join(inner, { on: "id", equals: "review.id", as: "thread" });
    expect(nested.value.map((row) => `${row.review.id}-${row.thread.comment.id}`)).toEqual([
      "r1-c1",
    ]);
  });
});

describe("a left join", () => {
  it("keeps an unmatched row's object when a match comes and goes in one batch", () => {
    const { store } = seeded();
    store.comment.upsert("c2", threadComment("c2", { reviewId: "r9" }));
    const joined = store.comment.live.join(store.review, { on: "data.reviewId", kind: "left" });
    let calls = 0;
    const stop = joined.subscribe(() => calls++);
    const before = joined.value.find((row) => row.comment.id === "c2")!;
    calls = 0;
    store.batch(() => {
      store.review.upsert("r9", threadReview("r9"));
      store.review.delete("r9");
    });
    expect(joined.value.find((row) => row.comment.id === "c2")).toBe(before);
    expect(calls).toBe(0);
    stop();
  });
});
