import { KalphiteStore } from "../../../src/index.js";
import { ThreadEntity } from "../../../test/core/support/threads.js";
import { arrayResults, windowRows } from "../shared.js";
import type { OperatorSystem } from "./workload.js";
import { JOIN_BELOW, LIMIT, SHOWN_REVIEWS, TIE_BELOW, WINDOW } from "./workload.js";

type Store = KalphiteStore<ThreadEntity>;

/** Kalphite: live queries with window, join and groupBy().aggregate(), subscribed. */
export function kalphiteOperators(): OperatorSystem {
  let store: Store = KalphiteStore(ThreadEntity);
  return {
    name: "Kalphite",
    api: '`live.where().orderBy("data.lineNumber")` (ties by id); `.window(offset, 50)` moved with `moveTo`; `live.join(store.review, { on: "data.reviewId" }).where().orderBy().limit(50)`; `live.where(open).groupBy("data.reviewId").aggregate(({ count }) => ...)` read with `group(id)`',
    load(comments, reviews) {
      store = KalphiteStore(ThreadEntity);
      store.review.upsertMany(reviews);
      store.comment.upsertMany(comments);
    },
    updateComment(c) {
      store.comment.upsert(c.id, c);
    },
    updateReview(r) {
      store.review.upsert(r.id, r);
    },
    ties(limit) {
      const queries = TIE_BELOW.map((below) => {
        const q = store.comment.live
          .where((c) => c.data.status === "open" && c.data.lineNumber < below)
          .orderBy("data.lineNumber");
        return limit === undefined ? q : q.limit(limit);
      });
      const stops = queries.map((q) => q.subscribe(() => {}));
      return arrayResults(queries, (q) => q.value, stops);
    },
    window(offset) {
      const window = store.comment.live.orderBy("data.lineNumber").window(offset, WINDOW);
      const stop = window.subscribe(() => {});
      return windowRows(
        () => window.value,
        (to) => window.moveTo(to),
        stop,
      );
    },
    join() {
      const query = store.comment.live
        .where((c) => c.data.lineNumber < JOIN_BELOW)
        .join(store.review, { on: "data.reviewId" })
        .orderBy("comment.data.lineNumber")
        .limit(LIMIT);
      const stop = query.subscribe(() => {});
      return {
        read() {
          let total = 0;
          for (const row of query.value) if (row.review.data.title !== undefined) total++;
          return total;
        },
        answer: () => query.value.map((row) => `${row.comment.id}:${row.review.data.title}`),
        stop,
      };
    },
    counts() {
      const perReview = store.comment.live
        .where((c) => c.data.status === "open")
        .groupBy("data.reviewId")
        .aggregate(({ count }) => ({ open: count() }));
      const shown = SHOWN_REVIEWS.map((id) => perReview.group(id));
      const stops = shown.map((group) => group.subscribe(() => {}));
      const answer = () => shown.map((group) => group.value?.open ?? 0);
      return {
        read: () => answer().length,
        answer,
        stop: () =>
          stops.forEach((stop) => {
            stop();
          }),
      };
    },
    dispose() {
      store = KalphiteStore(ThreadEntity);
    },
  };
}
