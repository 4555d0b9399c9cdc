import { describe, expectTypeOf, it } from "vitest";
import {
  type AggregateGroups,
  type JoinRow,
  KalphiteStore,
  type LiveAggregates,
  type LiveQuery,
  type LiveValue,
  type LiveWindow,
  type PathValue,
} from "../../src/core/index.js";
import { type ThreadComment, ThreadEntity, type ThreadReview } from "./support/threads.js";

const store = KalphiteStore(ThreadEntity);

describe("live operator types", () => {
  it("windows, first and findOne keep the row type", () => {
    const window = store.comment.live.orderBy("data.lineNumber").window(0, 50);
    expectTypeOf(window).toEqualTypeOf<LiveWindow<ThreadComment>>();
    expectTypeOf(window.value).toEqualTypeOf<ThreadComment[]>();
    expectTypeOf(window.total).toEqualTypeOf<number>();
    expectTypeOf(store.comment.live.offset(5).limit(5)).toEqualTypeOf<LiveQuery<ThreadComment>>();
    expectTypeOf(store.comment.live.first()).toEqualTypeOf<LiveValue<ThreadComment | undefined>>();
    expectTypeOf(store.review.live.findOne((r) => r.data.state === "open").value).toEqualTypeOf<
      ThreadReview | undefined
    >();
    // @ts-expect-error: moveTo takes positions
    window.moveTo("top");
  });

  it("aggregates have the type of what they compute", () => {
    const stats = store.comment.live.aggregate(({ count, sum, avg, min, max, minBy, maxBy }) => ({
      n: count(),
      lines: sum("data.lineNumber"),
      mean: avg((c) => c.updatedAt),
      firstBody: min("data.body"),
      lastStatus: max("data.status"),
      latestAt: max((c) => c.updatedAt),
      oldest: minBy("updatedAt"),
      latest: maxBy("updatedAt"),
    }));
    expectTypeOf(stats.value).toEqualTypeOf<{
      readonly n: number;
      readonly lines: number;
      readonly mean: number | undefined;
      readonly firstBody: string | undefined;
      readonly lastStatus: "open" | "resolved" | undefined;
      readonly latestAt: number | undefined;
      readonly oldest: ThreadComment | undefined;
      readonly latest: ThreadComment | undefined;
    }>();
    // @ts-expect-error: no such path
    store.comment.live.aggregate(({ sum }) => ({ s: sum("data.nothing") }));
    const perLine = store.comment.live
      .groupBy((c) => c.data.lineNumber)
      .aggregate(({ count }) => ({ open: count() }))
      .having((line) => line.open > 1);
    expectTypeOf(perLine).toEqualTypeOf<
      LiveAggregates<ThreadComment, number, { readonly open: number }>
    >();
    expectTypeOf(perLine.value).toEqualTypeOf<AggregateGroups<number, { readonly open: number }>>();
    expectTypeOf(perLine.group(3).value).toEqualTypeOf<{ readonly open: number } | undefined>();
    // @ts-expect-error: having sees the aggregates, not the rows
    perLine.having((line) => line.data);
  });

  it("a join's rows hold each side under its name, the right possibly undefined in a left join", () => {
    const inner = store.comment.live.join(store.review, { on: "data.reviewId" });
    expectTypeOf(inner).toEqualTypeOf<
      LiveQuery<JoinRow<ThreadComment, ThreadReview, "review", "inner">>
    >();
    expectTypeOf(inner.value[0]!.comment).toEqualTypeOf<ThreadComment>();
    expectTypeOf(inner.value[0]!.review).toEqualTypeOf<ThreadReview>();
    const left = store.comment.live.join(store.review, { on: "data.reviewId", kind: "left" });
    expectTypeOf(left.value[0]!.review).toEqualTypeOf<ThreadReview | undefined>();
    const named = store.review.live.join(store.comment.live, {
      on: "id",
      equals: "data.reviewId",
      as: "note",
    });
    expectTypeOf(named.value[0]!.note).toEqualTypeOf<ThreadComment>();
    expectTypeOf(named.value[0]!.review).toEqualTypeOf<ThreadReview>();
    // Joined rows compose with paths into both sides.
    inner.orderBy("review.data.title").where((row) => row.comment.data.status === "open");
    // A join of a join spreads the first join's sides.
    const triple = inner.join(store.comment, {
      on: "review.id",
      equals: "data.reviewId",
      as: "sibling",
    });
    expectTypeOf(triple.value[0]!.sibling).toEqualTypeOf<ThreadComment>();
    expectTypeOf(triple.value[0]!.review).toEqualTypeOf<ThreadReview>();
    // @ts-expect-error: the left key is a path of the left rows
    store.comment.live.join(store.review, { on: "data.title" });
    // @ts-expect-error: the right key is a path of the right rows
    store.comment.live.join(store.review, { on: "id", equals: "data.reviewId" });
    // @ts-expect-error: only inner and left joins
    store.comment.live.join(store.review, { on: "id", kind: "outer" });
    // @ts-expect-error: rows of an inner join always have their review
    inner.value[0]!.review = undefined;
  });

  it("live groups are keyed by what the key gives, as Object.groupBy keys it", () => {
    type Groups<K extends PropertyKey> = Partial<Record<K, ThreadComment[]>>;
    expectTypeOf(store.comment.live.groupBy("data.status").value).toEqualTypeOf<
      Groups<"open" | "resolved">
    >();
    expectTypeOf(store.comment.live.groupBy("data.reviewId").value).toEqualTypeOf<Groups<string>>();
    expectTypeOf(store.comment.live.groupBy((c) => c.data.lineNumber > 1).value).toEqualTypeOf<
      Groups<"true" | "false">
    >();
    expectTypeOf(store.comment.live.groupBy((c) => c.data.lineNumber).value).toEqualTypeOf<
      Groups<number>
    >();
    // @ts-expect-error "closed" is not a status
    store.comment.live.groupBy("data.status").value.closed;
  });

  it("a join whose right side is a join names that side with as", () => {
    const inner = store.comment.live.join(store.review, { on: "data.reviewId" });
    const nested = store.review.live.join(inner, { on: "id", equals: "review.id", as: "thread" });
    expectTypeOf(nested.value[0]!.thread.comment).toEqualTypeOf<ThreadComment>();
    expectTypeOf(nested.value[0]!.review).toEqualTypeOf<ThreadReview>();
    // @ts-expect-error: joined rows have no type name, so `as` is required
    store.review.live.join(inner, { on: "id", equals: "review.id" });
    // @ts-expect-error: only the named parts exist
    nested.value[0]!.other;
  });

  it("PathValue gives the type at a dotted path", () => {
    expectTypeOf<PathValue<ThreadComment, "data.lineNumber">>().toEqualTypeOf<number>();
    expectTypeOf<PathValue<ThreadComment, "data.reviewId">>().toEqualTypeOf<string | undefined>();
  });
});
