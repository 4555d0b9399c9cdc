import {
  and,
  BasicIndex,
  type Collection,
  count,
  createCollection,
  createLiveQueryCollection,
  eq,
  localOnlyCollectionOptions,
  lt,
} from "@tanstack/db";
import {
  JOIN_BELOW,
  LIMIT,
  type LiveWindowHandle,
  type OperatorSystem,
  SHOWN_REVIEWS,
  type ThreadComment,
  type ThreadReview,
  TIE_BELOW,
  WINDOW,
} from "./workload.js";

type Comments = Collection<ThreadComment, string>;
type Reviews = Collection<ThreadReview, string>;

/** TanStack DB: local-only collections; live query collections with orderBy/offset/limit, join, groupBy + count. */
export function tanstackOperators(): OperatorSystem {
  let generation = 0;
  const make = <T extends { id: string }>(rows: readonly T[]) =>
    createCollection(
      localOnlyCollectionOptions<T, string>({
        id: `rows-${generation++}`,
        getKey: (row) => row.id,
        initialData: rows as T[],
        autoIndex: "eager",
        defaultIndexType: BasicIndex,
      }),
    );
  let comments = make<ThreadComment>([]) as unknown as Comments;
  let reviews = make<ThreadReview>([]) as unknown as Reviews;
  return {
    name: "TanStack DB",
    api: "`createLiveQueryCollection(q => q.from().where(and(eq(), lt())).orderBy(line).orderBy(id).limit())`; window: `.offset().limit()` moved with `utils.setWindow({ offset, limit })` (awaited); join: `.join({ r: reviews }, ({ c, r }) => eq(c.data.reviewId, r.id), 'inner')`; counts: `.groupBy(c.data.reviewId).select({ n: count(c.id) })` read with `get(id)`",
    load(commentRows, reviewRows) {
      comments = make(commentRows) as unknown as Comments;
      reviews = make(reviewRows) as unknown as Reviews;
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
      const subs = queries.map((q) => q.subscribeChanges(() => {}));
      return {
        read() {
          let total = 0;
          for (const q of queries) {
            const rows = q.toArray;
            for (let i = 0; i < rows.length; i++) if (rows[i] !== undefined) total++;
          }
          return total;
        },
        answer: () => queries.flatMap((q) => q.toArray.map((c) => c.id)),
        stop() {
          for (const sub of subs) sub.unsubscribe();
          for (const q of queries) void q.cleanup();
        },
      };
    },
    async window(offset): Promise<LiveWindowHandle> {
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
      const sub = query.subscribeChanges(() => {});
      await query.toArrayWhenReady();
      const ids = () => query.toArray.map((c) => c.id);
      return {
        async move(to) {
          const moved = query.utils.setWindow({ offset: to, limit: WINDOW });
          if (moved !== true) await moved;
        },
        read() {
          let total = 0;
          for (const row of query.toArray) if (row.data.body !== undefined) total++;
          return total;
        },
        ids,
        answer: ids,
        stop() {
          sub.unsubscribe();
          void query.cleanup();
        },
      };
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
      const sub = query.subscribeChanges(() => {});
      return {
        read() {
          let total = 0;
          for (const row of query.toArray) if (row.title !== undefined) total++;
          return total;
        },
        answer: () => query.toArray.map((row) => `${row.id}:${row.title}`),
        stop() {
          sub.unsubscribe();
          void query.cleanup();
        },
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
      const sub = query.subscribeChanges(() => {});
      const answer = () =>
        SHOWN_REVIEWS.map((id) => (query.get(id) as { n: number } | undefined)?.n ?? 0);
      return {
        read: () => answer().length,
        answer,
        stop() {
          sub.unsubscribe();
          void query.cleanup();
        },
      };
    },
    dispose() {
      void comments.cleanup();
      void reviews.cleanup();
      comments = make<ThreadComment>([]) as unknown as Comments;
      reviews = make<ThreadReview>([]) as unknown as Reviews;
    },
  };
}
