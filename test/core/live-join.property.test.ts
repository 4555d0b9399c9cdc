import { effect } from "@preact/signals-core";
import fc from "fast-check";
import { describe, it } from "vitest";
import { compareKeys, KalphiteStore } from "../../src/core/index.js";
import {
  type ThreadComment,
  ThreadEntity,
  type ThreadReview,
  threadComment,
  threadReview,
} from "./support/threads.js";

/**
 * Joins against a naive nested-loop join after every step of random writes to both sides:
 * inner and left, filtered on either side and after the join, ordered, limited, windowed,
 * aggregated, reversed, and subscribed in several ways.
 */

type Write =
  | { kind: "comment"; id: string; review: string | undefined; line: number; open: boolean }
  | { kind: "review"; id: string; approved: boolean; title: string }
  | { kind: "deleteComment"; id: string }
  | { kind: "deleteReview"; id: string };
type Step =
  | Write
  | { kind: "batch"; writes: Write[] }
  | { kind: "toggle" }
  | { kind: "move"; offset: number };

const commentIds = Array.from({ length: 14 }, (_, i) => `c${i}`);
const reviewIds = ["r0", "r1", "r2", "r3"];
const write: fc.Arbitrary<Write> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("comment" as const),
      id: fc.constantFrom(...commentIds),
      review: fc.option(fc.constantFrom(...reviewIds, "r9"), { nil: undefined }),
      line: fc.integer({ min: 0, max: 6 }),
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
    weight: 2,
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
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: write },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("batch" as const),
      writes: fc.array(write, { maxLength: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "toggle" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("move" as const),
      offset: fc.integer({ min: 0, max: 8 }),
    }),
  },
);

interface Pair {
  id: string;
  comment: ThreadComment;
  review: ThreadReview | undefined;
}

const byKeyThenId =
  (key: (p: Pair) => unknown, sign = 1) =>
  (a: Pair, b: Pair) =>
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
): Pair[] {
  const out: Pair[] = [];
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

const describePairs = (rows: readonly { id: string }[]) =>
  rows.map((r) => r.id.replace("\u0000", "-")).join(",");

function samePairs(actual: readonly Pair[], expected: readonly Pair[]): boolean {
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

  let seenInner: readonly Pair[] = [];
  let seenLeft: readonly Pair[] = [];
  let seenWindow: readonly Pair[] = [];
  const stops = [
    inner.subscribe((rows) => {
      seenInner = rows as Pair[];
    }),
    effect(() => {
      seenLeft = left.value as Pair[];
    }),
    windowed.subscribe((rows) => {
      seenWindow = rows as Pair[];
    }),
    perReview.subscribe(() => {}),
  ];
  let stopReversed: (() => void) | undefined;

  const run = (w: Write) => {
    switch (w.kind) {
      case "comment": {
        const data = {
          lineNumber: w.line,
          status: w.open ? ("open" as const) : ("resolved" as const),
          ...(w.review ? { reviewId: w.review } : {}),
        };
        comments.set(
          w.id,
          store.comment.upsert(w.id, threadComment(w.id, data, w.line * 7 + w.id.length)),
        );
        break;
      }
      case "review":
        reviews.set(
          w.id,
          store.review.upsert(
            w.id,
            threadReview(w.id, { state: w.approved ? "approved" : "open", title: w.title }),
          ),
        );
        break;
      case "deleteComment":
        store.comment.delete(w.id);
        comments.delete(w.id);
        break;
      case "deleteReview":
        store.review.delete(w.id);
        reviews.delete(w.id);
    }
  };

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
    const expect = (name: string, actual: readonly Pair[], expected: Pair[]) => {
      if (!samePairs(actual, expected)) {
        throw new Error(
          `${label}: ${name} is [${describePairs(actual)}], expected [${describePairs(expected)}]`,
        );
      }
    };
    const innerAll = naiveJoin(comments, reviews, { left: false });
    const expectedInner = [...innerAll]
      .sort(byKeyThenId((p) => p.comment.data.lineNumber))
      .slice(0, 4);
    expect("inner", inner.value as Pair[], expectedInner);
    expect("inner (subscriber)", seenInner, expectedInner);
    const expectedLeft = naiveJoin(comments, reviews, { left: true });
    expect("left", left.value as Pair[], expectedLeft);
    expect("left (effect)", seenLeft, expectedLeft);
    const expectedFiltered = naiveJoin(comments, reviews, {
      left: true,
      comment: open,
      review: notApproved,
    })
      .filter((p) => p.review?.data.title !== "y")
      .sort(byKeyThenId((p) => p.comment.data.lineNumber, -1));
    expect("filtered", filtered.value as Pair[], expectedFiltered);
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
