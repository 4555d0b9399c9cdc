import { effect } from "@preact/signals-core";
import { describe, expect, it, vi } from "vitest";
import { KalphiteStore, KalphiteUsageError } from "../../src/core/index.js";
import { ThreadEntity, threadComment, threadReview } from "./support/threads.js";

function seeded() {
  const errors: unknown[] = [];
  const store = KalphiteStore(ThreadEntity, { onError: (error) => errors.push(error) });
  store.review.upsertMany([threadReview("r1"), threadReview("r2", { title: "second" })]);
  store.comment.upsertMany([
    threadComment("a", { reviewId: "r1", lineNumber: 3 }),
    threadComment("b", { reviewId: "r2", lineNumber: 1 }),
    threadComment("c", { reviewId: "r1", lineNumber: 2, status: "resolved" }),
    threadComment("d", { lineNumber: 9 }),
    threadComment("e", { reviewId: "r9", lineNumber: 4 }),
  ]);
  return { store, errors };
}

const pairs = (rows: readonly { comment: { id: string }; review?: { id: string } | undefined }[]) =>
  rows.map((row) => `${row.comment.id}-${row.review?.id ?? "none"}`);

describe("live joins", () => {
  it("inner joins comments to their review by a foreign key, composable with where/orderBy/limit", () => {
    const { store } = seeded();
    const joined = store.comment.live.join(store.review, { on: "data.reviewId" });
    expect(pairs(joined.value)).toEqual(["a-r1", "b-r2", "c-r1"]);
    const row = joined.value[0]!;
    expect(row.id).toBe("a\u0000r1");
    expect(row.review.data.title).toBe("review r1");
    expect(Object.isFrozen(row)).toBe(true);
    const open = store.comment.live
      .where((c) => c.data.status === "open")
      .join(store.review, { on: "data.reviewId" })
      .where((r) => r.review.data.title !== "second")
      .orderBy("comment.data.lineNumber", "desc");
    expect(pairs(open.value)).toEqual(["a-r1"]);
    expect(pairs(joined.orderBy("comment.data.lineNumber").limit(2).value)).toEqual([
      "b-r2",
      "c-r1",
    ]);
  });

  it("left join keeps comments without a review", () => {
    const { store } = seeded();
    const joined = store.comment.live
      .join(store.review, { on: "data.reviewId", kind: "left" })
      .orderBy("comment.data.lineNumber");
    expect(pairs(joined.value)).toEqual(["b-r2", "c-r1", "a-r1", "e-none", "d-none"]);
  });

  it("stays up to date from both sides while subscribed", () => {
    const { store } = seeded();
    const joined = store.comment.live
      .join(store.review, { on: "data.reviewId", kind: "left" })
      .orderBy("comment.data.lineNumber");
    const seen: string[][] = [];
    const stop = joined.subscribe((rows) => seen.push(pairs(rows)));
    // A review's write updates every joined comment row.
    store.review.upsert("r1", threadReview("r1", { title: "renamed" }));
    expect(
      joined.value.filter((r) => r.review?.id === "r1").map((r) => r.review!.data.title),
    ).toEqual(["renamed", "renamed"]);
    // The missing review arrives: e is matched now. Then r2 goes: b is unmatched.
    store.review.upsert("r9", threadReview("r9"));
    store.review.delete("r2");
    // A comment moves to another review, one is deleted.
    store.comment.upsert("a", threadComment("a", { reviewId: "r2", lineNumber: 3 }));
    store.comment.delete("c");
    expect(seen.slice(2)).toEqual([
      ["b-r2", "c-r1", "a-r1", "e-r9", "d-none"],
      ["b-none", "c-r1", "a-r1", "e-r9", "d-none"],
      ["b-none", "c-r1", "a-none", "e-r9", "d-none"],
      ["b-none", "a-none", "e-r9", "d-none"],
    ]);
    stop();
  });

  it("a write the join does not show re-runs nothing", () => {
    const { store } = seeded();
    const joined = store.comment.live.join(
      store.review.live.where((r) => r.data.state === "open"),
      {
        on: "data.reviewId",
      },
    );
    const runs = vi.fn();
    const stop = effect(() => {
      runs(joined.value);
    });
    store.comment.upsert("d", threadComment("d", { lineNumber: 10 })); // no review
    store.review.upsert("r7", threadReview("r7")); // no comment
    expect(runs).toHaveBeenCalledTimes(1);
    store.review.upsert("r2", threadReview("r2", { state: "approved" })); // filtered out: b leaves
    expect(pairs(joined.value)).toEqual(["a-r1", "c-r1"]);
    stop();
  });

  it("joins on any key equality, in either direction, named with as", () => {
    const { store } = seeded();
    // Each review with its comments (a review joined to many comments).
    const reviewsWithComments = store.review.live
      .join(store.comment, { on: "id", equals: "data.reviewId", as: "note" })
      .orderBy("note.data.lineNumber");
    expect(reviewsWithComments.value.map((r) => `${r.review.id}:${r.note.id}`)).toEqual([
      "r2:b",
      "r1:c",
      "r1:a",
    ]);
    // Nested: group the joined rows by review.
    const byReview = store.review.live
      .join(store.comment, { on: "id", equals: "data.reviewId", as: "note" })
      .groupBy("review.id")
      .aggregate(({ count }) => ({ comments: count() }));
    expect({ ...byReview.value }).toEqual({ r1: { comments: 2 }, r2: { comments: 1 } });
    // A self-join needs a name for the other side.
    expect(() => store.comment.live.join(store.comment, { on: "id" })).toThrow(/as option/);
    const self = store.comment.live.join(store.comment, {
      on: "data.reviewId",
      equals: "data.reviewId",
      as: "sibling",
    });
    expect(self.value.filter((r) => r.comment.id === "a").map((r) => r.sibling.id)).toEqual([
      "a",
      "c",
    ]);
  });

  it("joins a join: three collections, kept up to date", () => {
    const { store } = seeded();
    const triple = store.comment.live
      .join(store.review, { on: "data.reviewId" })
      .join(store.comment, { on: "review.id", equals: "data.reviewId", as: "sibling" })
      .where((r) => r.comment.id !== r.sibling.id);
    const stop = triple.subscribe(() => {});
    expect(triple.value.map((r) => `${r.comment.id}/${r.review.id}/${r.sibling.id}`)).toEqual([
      "a/r1/c",
      "c/r1/a",
    ]);
    store.comment.upsert("f", threadComment("f", { reviewId: "r2" }));
    expect(triple.value.map((r) => `${r.comment.id}/${r.sibling.id}`)).toEqual([
      "a/c",
      "b/f",
      "c/a",
      "f/b",
    ]);
    stop();
  });

  it("a query over the join subscribed during a write holds that row once", () => {
    const { store, errors } = seeded();
    const joined = store.comment.live.join(store.review, { on: "data.reviewId" });
    const byLine = joined.orderBy("comment.data.lineNumber");
    let late: (() => void) | undefined;
    const stop = joined.subscribeChanges(() => {
      late ??= byLine.subscribe(() => {});
    });
    store.comment.upsert("d", threadComment("d", { reviewId: "r2", lineNumber: 0 }));
    expect(pairs(byLine.value)).toEqual(["d-r2", "b-r2", "c-r1", "a-r1"]);
    expect(errors).toEqual([]);
    stop();
    late?.();
  });

  it("rejects bad options with a usage error", () => {
    const { store } = seeded();
    expect(() => store.comment.live.join({} as never, { on: "id" } as never)).toThrow(
      KalphiteUsageError,
    );
    expect(() => store.comment.live.join(store.review, null as never)).toThrow(KalphiteUsageError);
    expect(() => store.comment.live.join(store.review, { on: 5 as never })).toThrow(/on needs/);
    expect(() =>
      store.comment.live.join(store.review, { on: "id", kind: "outer" as never }),
    ).toThrow(/kind/);
    expect(() => store.comment.live.limit(2).join(store.review, { on: "id" })).toThrow(
      KalphiteUsageError,
    );
    expect(() => store.comment.live.join(store.review, { on: "id", as: "id" as never })).toThrow(
      KalphiteUsageError,
    );
  });

  it("a throwing key on one side goes to onError; the others stay right", () => {
    const { store, errors } = seeded();
    const joined = store.comment.live.join(store.review, {
      on: (c) => {
        if (c.data.body === "boom") throw new Error("bad key");
        return c.data.reviewId;
      },
    });
    const stop = joined.subscribe(() => {});
    store.comment.upsert("x", threadComment("x", { body: "boom", reviewId: "r1" }));
    expect(errors).toHaveLength(1);
    store.review.upsert("r2", threadReview("r2", { title: "still here" }));
    expect(joined.value.find((r) => r.comment.id === "b")?.review.data.title).toBe("still here");
    stop();
  });
});
