import { effect } from "@preact/signals-core";
import { KalphiteStore } from "../../../src/index.js";
import { Entity } from "../../../test/fixtures/schema.js";
import { arrayResults, countedSubscriptions } from "../shared.js";
import type { Comment, QuerySpec, System } from "../workload.js";

type Store = KalphiteStore<Entity>;

/** Kalphite: arktype-validated upserts, live queries (where + orderBy + limit) subscribed. */
export function kalphite(): System {
  let store: Store | undefined;
  const current = (): Store => store ?? (store = KalphiteStore(Entity));
  const query = (spec: QuerySpec) => {
    const below = spec.below;
    return current()
      .comment.live.where((c) => c.data.lineNumber < below)
      .orderBy((c) => c.updatedAt, spec.descending ? "desc" : "asc");
  };
  return {
    name: "Kalphite",
    api: "`store.comment.upsertMany/upsert` (arktype-validated); `store.comment.live.where().orderBy().limit()` subscribed; `store.comment.signal(id)` in an `effect`",
    load(rows) {
      store = KalphiteStore(Entity);
      store.comment.upsertMany(rows);
    },
    update(entity) {
      current().comment.upsert(entity.id, entity);
    },
    get(id) {
      return current().comment.findById(id)!;
    },
    live(specs, limit) {
      const queries = specs.map((spec) =>
        limit === undefined ? query(spec) : query(spec).limit(limit),
      );
      const stops = queries.map((q) => q.subscribe(() => {}));
      return arrayResults(queries, (q) => q.value, stops);
    },
    subscribeEntities(ids) {
      const collection = current().comment;
      return countedSubscriptions((runs) =>
        ids.map((id) => {
          const entity = collection.signal(id);
          let first = true;
          return effect(() => {
            entity.value;
            if (first) first = false;
            else runs.count++;
          });
        }),
      );
    },
    cold(spec) {
      return query(spec).value;
    },
    rowId: (row) => (row as Comment).id,
    dispose() {
      store = undefined;
    },
  };
}
