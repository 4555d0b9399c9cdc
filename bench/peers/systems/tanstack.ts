import {
  BasicIndex,
  type Collection,
  createCollection,
  createLiveQueryCollection,
  eq,
  localOnlyCollectionOptions,
  lt,
} from "@tanstack/db";
import type { Comment, EntitySubscriptions, LiveSet, QuerySpec, System } from "../workload.js";

type Comments = Collection<Comment, string>;

/** TanStack DB: a local-only collection, live query collections (where + orderBy + limit). */
export function tanstack(): System {
  let collection: Comments | undefined;
  let generation = 0;
  const make = (rows: readonly Comment[]): Comments =>
    createCollection(
      localOnlyCollectionOptions<Comment, string>({
        id: `comments-${generation++}`,
        getKey: (c) => c.id,
        initialData: rows as Comment[],
        autoIndex: "eager",
        defaultIndexType: BasicIndex,
      }),
    ) as unknown as Comments;
  const current = (): Comments => collection ?? (collection = make([]));
  const query = (spec: QuerySpec, limit: number | undefined) => {
    const source = current();
    const lq = createLiveQueryCollection({
      startSync: true,
      query: (q) => {
        const ordered = q
          .from({ c: source })
          .where(({ c }) => lt(c.data.lineNumber, spec.below))
          .orderBy(({ c }) => c.updatedAt, spec.descending ? "desc" : "asc");
        return limit === undefined ? ordered : ordered.limit(limit);
      },
    });
    return lq;
  };
  return {
    name: "TanStack DB",
    api: "`createCollection(localOnlyCollectionOptions({ initialData, autoIndex: 'eager' }))`, `collection.update(id, draft => ...)`; `createLiveQueryCollection(q => q.from().where(lt()).orderBy().limit())` subscribed with `subscribeChanges`, read with `toArray`; entity subscriptions: `subscribeChanges(cb, { where: c => eq(c.id, id) })`",
    load(rows) {
      collection = make(rows);
    },
    update(entity) {
      current().update(entity.id, (draft) => {
        draft.updatedAt = entity.updatedAt;
        draft.data.lineNumber = entity.data.lineNumber;
        draft.data.body = entity.data.body;
        draft.data.status = entity.data.status;
      });
    },
    get(id) {
      return current().get(id)!;
    },
    live(specs, limit): LiveSet {
      const queries = specs.map((spec) => query(spec, limit));
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
        ids: (i) => queries[i]!.toArray.map((c) => c.id),
        stop() {
          for (const sub of subs) sub.unsubscribe();
          for (const q of queries) void q.cleanup();
        },
      };
    },
    subscribeEntities(ids): EntitySubscriptions {
      let runs = 0;
      const source = current();
      const subs = ids.map((id) =>
        source.subscribeChanges(
          () => {
            runs++;
          },
          { where: (c) => eq(c.id, id) },
        ),
      );
      return {
        takeRuns() {
          const r = runs;
          runs = 0;
          return r;
        },
        stop() {
          for (const sub of subs) sub.unsubscribe();
        },
      };
    },
    cold(spec) {
      const q = query(spec, undefined);
      const rows = q.toArray;
      void q.cleanup();
      return rows;
    },
    rowId: (row) => (row as Comment).id,
    dispose() {
      if (collection) void collection.cleanup();
      collection = undefined;
    },
  };
}
