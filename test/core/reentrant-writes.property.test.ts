import { effect } from "@preact/signals-core";
import fc from "fast-check";
import { describe, it } from "vitest";
import { compareKeys, KalphiteStore, type StoreChange } from "../../src/core/index.js";
import { batchOf } from "./support/batches.js";
import {
  applyThreadWrite,
  describeRows,
  samePairs,
  type ThreadPair,
  type ThreadStore,
  type ThreadWrite,
  threadWrite,
} from "./support/thread-writes.js";
import {
  type ThreadComment,
  ThreadEntity,
  type ThreadReview,
  threadComment,
  threadReview,
} from "./support/threads.js";

/**
 * Listeners that write (to their own collection and to the other side of a join) while the live
 * queries take in a write: after every step of random writes, every live query, join and
 * aggregate equals a naive recompute of what the store holds, and the change stream's last
 * change of each entity is what the store holds.
 */

type Step = ThreadWrite | { kind: "batch"; writes: ThreadWrite[] };

const write = threadWrite({
  commentIds: ["c0", "c1", "c2", "c3", "c4", "c5"],
  reviewIds: ["r0", "r1", "r2"],
  maxLine: 12,
  deleteCommentWeight: 1,
});
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: write },
  { weight: 1, arbitrary: batchOf(write, 4) },
);

/**
 * Listeners that write, each bounded (it writes only what changes a value, toward a fixed
 * point): a normalizer, and writes across the join in both directions.
 */
function installReactions(store: ThreadStore): (() => void)[] {
  const joined = store.comment.live.join(store.review, { on: "data.reviewId" });
  return [
    // A comment on a line past 6 moves 7 lines up.
    store.comment.live.subscribeChanges(({ entity }) => {
      if (entity && entity.data.lineNumber > 6) {
        store.comment.upsert(
          entity.id,
          threadComment(entity.id, { ...entity.data, lineNumber: entity.data.lineNumber - 7 }),
        );
      }
    }),
    // A resolved comment approves its review (a write to the other side of the join).
    store.comment.live
      .where((c) => c.data.status === "resolved")
      .subscribeChanges(({ entity }) => {
        const review = entity?.data.reviewId
          ? store.review.findById(entity.data.reviewId)
          : undefined;
        if (review && review.data.state === "open") {
          store.review.upsert(
            review.id,
            threadReview(review.id, { ...review.data, state: "approved" }),
          );
        }
      }),
    // A review titled "y" gets a note; a deleted review loses it.
    store.review.live.subscribeChanges(({ entity, previous }) => {
      if (entity?.data.title === "y" && !store.comment.has(`n-${entity.id}`)) {
        store.comment.upsert(
          `n-${entity.id}`,
          threadComment(`n-${entity.id}`, { lineNumber: 3, reviewId: entity.id }),
        );
      } else if (entity === undefined && previous) store.comment.delete(`n-${previous.id}`);
    }),
    // From the join: a pair on line 0 retitles its review; an approved review resolves its
    // open comments.
    joined.subscribeChanges(({ entity }) => {
      if (entity === undefined) return;
      const { comment, review } = entity;
      if (comment.data.lineNumber === 0 && review.data.title !== "x") {
        store.review.upsert(review.id, threadReview(review.id, { ...review.data, title: "x" }));
      }
      const current = store.comment.findById(comment.id);
      if (review.data.state === "approved" && current?.data.status === "open") {
        store.comment.upsert(
          current.id,
          threadComment(current.id, { ...current.data, status: "resolved" }),
        );
      }
    }),
  ];
}

const byLineThenId = (a: { id: string; line: number }, b: { id: string; line: number }) =>
  compareKeys(a.line, b.line) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function naiveJoin(store: ThreadStore, left: boolean): ThreadPair[] {
  const out: ThreadPair[] = [];
  for (const c of store.comment) {
    const r = c.data.reviewId === undefined ? undefined : store.review.findById(c.data.reviewId);
    if (r) out.push({ id: `${c.id}\u0000${r.id}`, comment: c, review: r });
    else if (left) out.push({ id: `${c.id}\u0000`, comment: c, review: undefined });
  }
  return out;
}

function scenario(reactionsFirst: boolean, steps: Step[]): void {
  const store: ThreadStore = KalphiteStore(ThreadEntity, {
    onError: (error) => {
      throw error;
    },
  });
  const last = new Map<string, StoreChange<ThreadComment | ThreadReview>>();
  store.onChange((change) => last.set(`${change.entityType}/${change.entityId}`, change));
  const byLine = store.comment.live.orderBy("data.lineNumber");
  const inner = store.comment.live
    .join(store.review, { on: "data.reviewId" })
    .orderBy("comment.data.lineNumber");
  const left = store.comment.live.join(store.review, { on: "data.reviewId", kind: "left" });
  const reversed = store.review.live.join(store.comment, {
    on: "id",
    equals: "data.reviewId",
    as: "note",
  });
  const byStatus = store.comment.live.orderBy("data.lineNumber").groupBy("data.status");
  const perReview = store.comment.live
    .join(store.review, { on: "data.reviewId" })
    .groupBy("review.id")
    .aggregate(({ count, sum }) => ({ n: count(), lines: sum("comment.data.lineNumber") }));
  let seenLeft: readonly ThreadPair[] = [];
  const subscribeViews = () => [
    byLine.subscribe(() => {}),
    inner.subscribe(() => {}),
    effect(() => {
      seenLeft = left.value as ThreadPair[];
    }),
    reversed.subscribe(() => {}),
    byStatus.subscribe(() => {}),
    perReview.subscribe(() => {}),
  ];
  const stops = reactionsFirst
    ? [...installReactions(store), ...subscribeViews()]
    : [...subscribeViews(), ...installReactions(store)];

  const run = (w: ThreadWrite) => applyThreadWrite(store, w);

  steps.forEach((s, n) => {
    if (s.kind === "batch") store.batch(() => s.writes.forEach(run));
    else run(s);
    const fail = (what: string) => {
      throw new Error(`step ${n} ${JSON.stringify(s)}: ${what}`);
    };
    const comments = [...store.comment];
    const expectedByLine = comments
      .map((c) => ({ id: c.id, line: c.data.lineNumber, c }))
      .sort(byLineThenId)
      .map((x) => x.c);
    if (describeRows(byLine.value) !== describeRows(expectedByLine))
      fail(`byLine [${describeRows(byLine.value)}] != [${describeRows(expectedByLine)}]`);
    const expectedInner = naiveJoin(store, false)
      .map((p) => ({ id: p.id, line: p.comment.data.lineNumber, p }))
      .sort(byLineThenId)
      .map((x) => x.p);
    if (!samePairs(inner.value as ThreadPair[], expectedInner))
      fail(`inner [${describeRows(inner.value)}] != [${describeRows(expectedInner)}]`);
    const byId = (a: ThreadPair, b: ThreadPair) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const expectedLeft = naiveJoin(store, true).sort(byId);
    if (!samePairs(seenLeft, expectedLeft))
      fail(`left [${describeRows(seenLeft)}] != [${describeRows(expectedLeft)}]`);
    const expectedReversed = naiveJoin(store, false)
      .map((p) => `${p.review!.id}\u0000${p.comment.id}`)
      .sort();
    if (reversed.value.map((r) => r.id).join() !== expectedReversed.join())
      fail(`reversed [${describeRows(reversed.value)}]`);
    const groups = byStatus.value;
    for (const status of ["open", "resolved"] as const) {
      const expected = expectedByLine.filter((c) => c.data.status === status);
      if (describeRows(groups[status] ?? []) !== describeRows(expected)) fail(`group ${status}`);
    }
    const counts: Record<string, { n: number; lines: number }> = {};
    for (const p of naiveJoin(store, false)) {
      const c = (counts[p.review!.id] ??= { n: 0, lines: 0 });
      c.n++;
      c.lines += p.comment.data.lineNumber;
    }
    const sorted = (o: object) => JSON.stringify(Object.fromEntries(Object.entries(o).sort()));
    if (sorted(perReview.value) !== sorted(counts))
      fail(`per review ${sorted(perReview.value)} != ${sorted(counts)}`);
    // The change stream ends on what the store holds (what a flush engine would persist).
    for (const [key, change] of last) {
      const [type, id] = key.split("/") as ["comment" | "review", string];
      const held = type === "comment" ? store.comment.findById(id) : store.review.findById(id);
      if ((change.operation === "upsert" ? change.entity : undefined) !== held)
        fail(`the last change of ${key} is not what the store holds`);
    }
  });
  for (const stop of stops) stop();
}

describe("listeners that write during a write", () => {
  it("leave every live query, join and aggregate equal to a recompute of the store", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(step, { minLength: 20, maxLength: 80 }), scenario),
      { numRuns: 100 },
    );
  });
});
