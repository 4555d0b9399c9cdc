import fc from "fast-check";
import type { KalphiteStore } from "../../../src/core/index.js";
import { type ThreadComment, type ThreadReview, threadComment, threadReview } from "./threads.js";

/** Random writes to both sides of the comment–review join, for the property tests. */
export type ThreadWrite =
  | { kind: "comment"; id: string; review: string | undefined; line: number; open: boolean }
  | { kind: "review"; id: string; approved: boolean; title: string }
  | { kind: "deleteComment"; id: string }
  | { kind: "deleteReview"; id: string };

export type ThreadStore = KalphiteStore<ThreadComment | ThreadReview>;

export interface ThreadWriteOptions {
  commentIds: readonly string[];
  reviewIds: readonly string[];
  /** Review ids a comment may point to besides `reviewIds` (reviews never written). */
  danglingReviewIds?: readonly string[];
  maxLine: number;
  /** The weight of comment deletes, against 4 comment upserts, 3 review upserts, 1 review delete. */
  deleteCommentWeight: number;
}

export function threadWrite(options: ThreadWriteOptions): fc.Arbitrary<ThreadWrite> {
  const { commentIds, reviewIds, danglingReviewIds = [] } = options;
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("comment" as const),
        id: fc.constantFrom(...commentIds),
        review: fc.option(fc.constantFrom(...reviewIds, ...danglingReviewIds), { nil: undefined }),
        line: fc.integer({ min: 0, max: options.maxLine }),
        open: fc.boolean(),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("review" as const),
        id: fc.constantFrom(...reviewIds),
        approved: fc.boolean(),
        title: fc.constantFrom("x", "y"),
      }),
    },
    {
      weight: options.deleteCommentWeight,
      arbitrary: fc.record({
        kind: fc.constant("deleteComment" as const),
        id: fc.constantFrom(...commentIds),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("deleteReview" as const),
        id: fc.constantFrom(...reviewIds),
      }),
    },
  );
}

/** What a naive model holds: the entities last written, by id. */
export interface ThreadModel {
  comments: Map<string, ThreadComment>;
  reviews: Map<string, ThreadReview>;
}

/**
 * Applies `w` to `store`, and to `model` when given (the entity the store returned, or the
 * delete). A comment gets `commentUpdatedAt(w)` as its `updatedAt` (1 unless given).
 */
export function applyThreadWrite(
  store: ThreadStore,
  w: ThreadWrite,
  model?: ThreadModel,
  commentUpdatedAt: (w: ThreadWrite & { kind: "comment" }) => number = () => 1,
): void {
  switch (w.kind) {
    case "comment": {
      const data = {
        lineNumber: w.line,
        status: w.open ? ("open" as const) : ("resolved" as const),
        ...(w.review ? { reviewId: w.review } : {}),
      };
      const written = store.comment.upsert(w.id, threadComment(w.id, data, commentUpdatedAt(w)));
      model?.comments.set(w.id, written);
      break;
    }
    case "review": {
      const written = store.review.upsert(
        w.id,
        threadReview(w.id, { state: w.approved ? "approved" : "open", title: w.title }),
      );
      model?.reviews.set(w.id, written);
      break;
    }
    case "deleteComment":
      store.comment.delete(w.id);
      model?.comments.delete(w.id);
      break;
    case "deleteReview":
      store.review.delete(w.id);
      model?.reviews.delete(w.id);
  }
}

/** A row of the comment–review join, left or inner. */
export interface ThreadPair {
  id: string;
  comment: ThreadComment;
  review: ThreadReview | undefined;
}

/** Row ids for a failure message, with the join's separator shown as `-`. */
export const describeRows = (rows: readonly { id: string }[]) =>
  rows.map((r) => r.id.replace("\u0000", "-")).join(",");

/** The same rows, in the same order, holding the very same entities. */
export function samePairs(actual: readonly ThreadPair[], expected: readonly ThreadPair[]): boolean {
  return (
    actual.length === expected.length &&
    actual.every(
      (row, i) =>
        row.id === expected[i]!.id &&
        row.comment === expected[i]!.comment &&
        row.review === expected[i]!.review,
    )
  );
}
