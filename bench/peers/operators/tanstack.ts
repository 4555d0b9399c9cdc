import { and, type Collection, count, createLiveQueryCollection, eq, lt } from "@tanstack/db";
import { arrayResults, windowRows } from "../shared.js";
import { localCollection, subscribed } from "../systems/tanstack.js";
import type { OperatorSystem, ThreadComment, ThreadReview } from "./workload.js";
import { JOIN_BELOW, LIMIT, SHOWN_REVIEWS, TIE_BELOW, WINDOW } from "./workload.js";

type Comments = Collection<ThreadComment, string>;
type Reviews = Collection<ThreadReview, string>;

/** TanStack DB: local-only collections; live query collections with orderBy/offset/limit, join, groupBy + count. */
export function tanstackOperators(): OperatorSystem {
  let generation = 0;
  const make = <T extends { id: string }>(rows: readonly T[]) =>
    localCollection(`rows-${generation++}`, rows);
  let comments: Comments = make<ThreadComment>([]);
  let reviews: Reviews = make<ThreadReview>([]);
  return {
    name: "TanStack DB",
    api: "`createLiveQueryCollection(q => q.from().where(and(eq(), lt())).orderBy(line).orderBy(id).limit())`; window: `.offset().limit()` moved with `utils.setWindow({ offset, limit })` (awaited); join: `.join({ r: reviews }, ({ c, r }) => eq(c.data.reviewId, r.id), 'inner')`; counts: `.groupBy(c.data.reviewId).select({ n: count(c.id) })` read with `get(id)`",
    load(commentRows, reviewRows) {
      comments = make(commentRows);
      reviews = make(reviewRows);
    },
    updateComment(c) {
      comments.update(c.id, (draft) => {
        draft.updatedAt = c.updatedAt;
        draft.data.body = c.data.body;
        draft.data.lineNumber = c.data.lineNumber;
        draft.data.status = c.data.status;
        if (c.data.reviewId !== undefined) draft.data.reviewId = c.data.reviewId;
      });
    },
    updateReview(r) {
      reviews.update(r.id, (draft) => {
        draft.updatedAt = r.updatedAt;
        draft.data.title = r.data.title;
      });
    },
    ties(limit) {
      const queries = TIE_BELOW.map((below) =>
        createLiveQueryCollection({
          startSync: true,
          query: (q) => {
            const ordered = q
              .from({ c: comments })
              .where(({ c }) => and(eq(c.data.status, "open"), lt(c.data.lineNumber, below)))
              .orderBy(({ c }) => c.data.lineNumber)
              .orderBy(({ c }) => c.id);
            return limit === undefined ? ordered : ordered.limit(limit);
          },
        }),
      );
      return arrayResults(queries, (q) => q.toArray, queries.map(subscribed));
    },
    async window(offset) {
      const query = createLiveQueryCollection({
        startSync: true,
        query: (q) =>
          q
            .from({ c: comments })
            .orderBy(({ c }) => c.data.lineNumber)
            .orderBy(({ c }) => c.id)
            .offset(offset)
            .limit(WINDOW),
      });
      const stop = subscribed(query);
      await query.toArrayWhenReady();
      return windowRows(
        () => query.toArray,
        async (to) => {
          const moved = query.utils.setWindow({ offset: to, limit: WINDOW });
          if (moved !== true) await moved;
        },
        stop,
      );
    },
    join() {
      const query = createLiveQueryCollection({
        startSync: true,
        query: (q) =>
          q
            .from({ c: comments })
            .join({ r: reviews }, ({ c, r }) => eq(c.data.reviewId, r.id), "inner")
            .where(({ c }) => lt(c.data.lineNumber, JOIN_BELOW))
            .orderBy(({ c }) => c.data.lineNumber)
            .orderBy(({ c }) => c.id)
            .limit(LIMIT)
            .select(({ c, r }) => ({ id: c.id, line: c.data.lineNumber, title: r.data.title })),
      });
      const stop = subscribed(query);
      return {
        read() {
          let total = 0;
          for (const row of query.toArray) if (row.title !== undefined) total++;
          return total;
        },
        answer: () => query.toArray.map((row) => `${row.id}:${row.title}`),
        stop,
      };
    },
    counts() {
      const query = createLiveQueryCollection({
        startSync: true,
        query: (q) =>
          q
            .from({ c: comments })
            .where(({ c }) => eq(c.data.status, "open"))
            .groupBy(({ c }) => c.data.reviewId)
            .select(({ c }) => ({ reviewId: c.data.reviewId, n: count(c.id) })),
      });
      const stop = subscribed(query);
      const answer = () =>
        SHOWN_REVIEWS.map((id) => (query.get(id) as { n: number } | undefined)?.n ?? 0);
      return {
        read: () => answer().length,
        answer,
        stop,
      };
    },
    dispose() {
      void comments.cleanup();
      void reviews.cleanup();
      comments = make<ThreadComment>([]);
      reviews = make<ThreadReview>([]);
    },
  };
}
