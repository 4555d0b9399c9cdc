import { effect } from "@preact/signals-core";
import { KalphiteStore } from "../../../src/index.js";
import { Entity } from "../../../test/fixtures/schema.js";
import type { Comment, EntitySubscriptions, LiveSet, QuerySpec, System } from "../workload.js";

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
    live(specs, limit): LiveSet {
      const queries = specs.map((spec) =>
        limit === undefined ? query(spec) : query(spec).limit(limit),
      );
      const stops = queries.map((q) => q.subscribe(() => {}));
      return {
        read() {
          let total = 0;
          for (const q of queries) {
            const rows = q.value;
            for (let i = 0; i < rows.length; i++) if (rows[i] !== undefined) total++;
          }
          return total;
        },
        results: () => queries.map((q) => q.value),
        ids: (i) => queries[i]!.value.map((c) => c.id),
        stop: () => {
          for (const stop of stops) stop();
        },
      };
    },
    subscribeEntities(ids): EntitySubscriptions {
      let runs = 0;
      const collection = current().comment;
      const stops = ids.map((id) => {
        const entity = collection.signal(id);
        let first = true;
        return effect(() => {
          entity.value;
          if (first) first = false;
          else runs++;
        });
      });
      return {
        takeRuns() {
          const r = runs;
          runs = 0;
          return r;
        },
        stop() {
          for (const stop of stops) stop();
        },
      };
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
