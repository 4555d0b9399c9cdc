import { effect } from "@preact/signals-core";
import fc from "fast-check";
import { describe, it } from "vitest";
import { compareKeys, KalphiteStore } from "../../src/core/index.js";
import { batchOf } from "./support/batches.js";
import {
  applyThreadWrite,
  describeRows,
  samePairs,
  type ThreadPair,
  type ThreadWrite,
  threadWrite,
} from "./support/thread-writes.js";
import { type ThreadComment, ThreadEntity, type ThreadReview } from "./support/threads.js";

/**
 * Joins against a naive nested-loop join after every step of random writes to both sides:
 * inner and left, filtered on either side and after the join, ordered, limited, windowed,
 * aggregated, reversed, and subscribed in several ways.
 */

type Step =
  | ThreadWrite
  | { kind: "batch"; writes: ThreadWrite[] }
  | { kind: "toggle" }
  | { kind: "move"; offset: number };

const write = threadWrite({
  commentIds: Array.from({ length: 14 }, (_, i) => `c${i}`),
  reviewIds: ["r0", "r1", "r2", "r3"],
  danglingReviewIds: ["r9"],
  maxLine: 6,
  deleteCommentWeight: 2,
});
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: write },
  { weight: 2, arbitrary: batchOf(write, 5) },
  { weight: 1, arbitrary: fc.constant({ kind: "toggle" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("move" as const),
      offset: fc.integer({ min: 0, max: 8 }),
    }),
  },
);

const byKeyThenId =
  (key: (p: ThreadPair) => unknown, sign = 1) =>
  (a: ThreadPair, b: ThreadPair) =>
    sign * compareKeys(key(a), key(b)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The naive join: every comment against every review. */
function naiveJoin(
  comments: Map<string, ThreadComment>,
  reviews: Map<string, ThreadReview>,
  options: {
    left: boolean;
    comment?: (c: ThreadComment) => boolean;
    review?: (r: ThreadReview) => boolean;
  },
): ThreadPair[] {
  const out: ThreadPair[] = [];
  for (const c of comments.values()) {
    if (options.comment && !options.comment(c)) continue;
    let matched = false;
    for (const r of reviews.values()) {
      if (options.review && !options.review(r)) continue;
      if (c.data.reviewId !== undefined && c.data.reviewId === r.id) {
        out.push({ id: `${c.id}\u0000${r.id}`, comment: c, review: r });
        matched = true;
      }
    }
    if (!matched && options.left) out.push({ id: `${c.id}\u0000`, comment: c, review: undefined });
  }
  return out.sort(byKeyThenId(() => 0));
}

function scenario(steps: Step[]): void {
  const store = KalphiteStore(ThreadEntity);
  const comments = new Map<string, ThreadComment>();
  const reviews = new Map<string, ThreadReview>();
  const open = (c: ThreadComment) => c.data.status === "open";
  const notApproved = (r: ThreadReview) => r.data.state === "open";
  let windowOffset = 1;

  const inner = store.comment.live
    .join(store.review, { on: "data.reviewId" })
    .orderBy("comment.data.lineNumber")
    .limit(4);
  const left = store.comment.live.join(store.review, { on: "data.reviewId", kind: "left" });
  const filtered = store.comment.live
    .where(open)
    .join(store.review.live.where(notApproved), { on: "data.reviewId", kind: "left" })
    .where((p) => p.review?.data.title !== "y")
    .orderBy((p) => p.comment.data.lineNumber, "desc");
  const windowed = filtered.window(windowOffset, 3);
  const reversed = store.review.live
    .join(store.comment, { on: "id", equals: "data.reviewId", as: "note" })
    .orderBy("note.updatedAt");
  const perReview = store.comment.live
    .join(store.review, { on: "data.reviewId" })
    .groupBy("review.id")
    .aggregate(({ count, max }) => ({ n: count(), line: max("comment.data.lineNumber") }));

  let seenInner: readonly ThreadPair[] = [];
  let seenLeft: readonly ThreadPair[] = [];
  let seenWindow: readonly ThreadPair[] = [];
  const stops = [
    inner.subscribe((rows) => {
      seenInner = rows as ThreadPair[];
    }),
    effect(() => {
      seenLeft = left.value as ThreadPair[];
    }),
    windowed.subscribe((rows) => {
      seenWindow = rows as ThreadPair[];
    }),
    perReview.subscribe(() => {}),
  ];
  let stopReversed: (() => void) | undefined;

  const model = { comments, reviews };
  const run = (w: ThreadWrite) =>
    applyThreadWrite(store, w, model, (c) => c.line * 7 + c.id.length);

  steps.forEach((s, n) => {
    if (s.kind === "batch") store.batch(() => s.writes.forEach(run));
    else if (s.kind === "toggle") {
      if (stopReversed) {
        stopReversed();
        stopReversed = undefined;
      } else stopReversed = reversed.subscribe(() => {});
    } else if (s.kind === "move") {
      windowOffset = s.offset;
      windowed.moveTo(s.offset);
    } else run(s);
    const label = `step ${n} ${JSON.stringify(s)}`;
    const expect = (name: string, actual: readonly ThreadPair[], expected: ThreadPair[]) => {
      if (!samePairs(actual, expected)) {
        throw new Error(
          `${label}: ${name} is [${describeRows(actual)}], expected [${describeRows(expected)}]`,
        );
      }
    };
    const innerAll = naiveJoin(comments, reviews, { left: false });
    const expectedInner = [...innerAll]
      .sort(byKeyThenId((p) => p.comment.data.lineNumber))
      .slice(0, 4);
    expect("inner", inner.value as ThreadPair[], expectedInner);
    expect("inner (subscriber)", seenInner, expectedInner);
    const expectedLeft = naiveJoin(comments, reviews, { left: true });
    expect("left", left.value as ThreadPair[], expectedLeft);
    expect("left (effect)", seenLeft, expectedLeft);
    const expectedFiltered = naiveJoin(comments, reviews, {
      left: true,
      comment: open,
      review: notApproved,
    })
      .filter((p) => p.review?.data.title !== "y")
      .sort(byKeyThenId((p) => p.comment.data.lineNumber, -1));
    expect("filtered", filtered.value as ThreadPair[], expectedFiltered);
    const expectedWindow = expectedFiltered.slice(windowOffset, windowOffset + 3);
    expect("window", seenWindow, expectedWindow);
    if (windowed.total !== expectedFiltered.length)
      throw new Error(`${label}: window total ${windowed.total}`);
    // The reversed join: reviews with their comments, as pairs of (comment, review).
    const expectedReversed = innerAll
      .map((p) => ({ ...p, id: `${p.review!.id}\u0000${p.comment.id}` }))
      .sort(byKeyThenId((p) => p.comment.updatedAt));
    const actualReversed = reversed.value.map((r) => ({
      id: r.id,
      comment: r.note,
      review: r.review,
    }));
    expect("reversed", actualReversed, expectedReversed);
    const counts: Record<string, { n: number; line: number }> = {};
    for (const p of innerAll) {
      const c = (counts[p.review!.id] ??= { n: 0, line: -1 });
      c.n++;
      c.line = Math.max(c.line, p.comment.data.lineNumber);
    }
    const actualCounts = JSON.stringify(Object.fromEntries(Object.entries(perReview.value).sort()));
    const expectedCounts = JSON.stringify(Object.fromEntries(Object.entries(counts).sort()));
    if (actualCounts !== expectedCounts)
      throw new Error(`${label}: per review ${actualCounts} != ${expectedCounts}`);
  });
  for (const stop of stops) stop();
  stopReversed?.();
}

describe("live joins against a naive nested-loop join after every step", () => {
  it("agree through random writes to both sides, batches, window moves and (un)subscriptions", () => {
    fc.assert(fc.property(fc.array(step, { minLength: 50, maxLength: 200 }), scenario), {
      numRuns: 150,
    });
  });
});
