import {
  BasicIndex,
  type Collection,
  createCollection,
  createLiveQueryCollection,
  eq,
  localOnlyCollectionOptions,
  lt,
} from "@tanstack/db";
import { arrayResults, countedSubscriptions } from "../shared.js";
import type { Comment, QuerySpec, System } from "../workload.js";

type Comments = Collection<Comment, string>;

/**
 * A local-only collection holding `rows`, keyed by id, with eager indexes: how both TanStack DB
 * adapters (this one and the operator workloads') store their entities.
 */
export function localCollection<T extends { id: string }>(
  id: string,
  rows: readonly T[],
): Collection<T, string> {
  return createCollection(
    localOnlyCollectionOptions<T, string>({
      id,
      getKey: (row) => row.id,
      initialData: rows as T[],
      autoIndex: "eager",
      defaultIndexType: BasicIndex,
    }),
  ) as unknown as Collection<T, string>;
}

/** Subscribes to a live query collection; returns how to unsubscribe and clean it up. */
export function subscribed(query: {
  subscribeChanges(listener: () => void): { unsubscribe(): void };
  cleanup(): Promise<void>;
}): () => void {
  const sub = query.subscribeChanges(() => {});
  return () => {
    sub.unsubscribe();
    void query.cleanup();
  };
}

/** TanStack DB: a local-only collection, live query collections (where + orderBy + limit). */
export function tanstack(): System {
  let collection: Comments | undefined;
  let generation = 0;
  const make = (rows: readonly Comment[]): Comments =>
    localCollection(`comments-${generation++}`, rows);
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
    live(specs, limit) {
      const queries = specs.map((spec) => query(spec, limit));
      return arrayResults(queries, (q) => q.toArray, queries.map(subscribed));
    },
    subscribeEntities(ids) {
      const source = current();
      return countedSubscriptions((runs) =>
        ids.map((id) => {
          const sub = source.subscribeChanges(
            () => {
              runs.count++;
            },
            { where: (c) => eq(c.id, id) },
          );
          return () => sub.unsubscribe();
        }),
      );
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
