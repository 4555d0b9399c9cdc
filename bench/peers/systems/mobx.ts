import { autorun, computed, type IComputedValue, observable, reaction, runInAction } from "mobx";
import { arrayResults, countedSubscriptions } from "../shared.js";
import { type Comment, matches, type QuerySpec, type System, sortAndCut } from "../workload.js";

/**
 * MobX: an `observable.map` of immutable entities (`deep: false`: an update replaces the entity,
 * the fastest idiomatic setup for whole-entity writes); one `computed` per query that filters and
 * sorts, kept alive by a `reaction`; entity subscriptions are `autorun(() => map.get(id))`.
 */
export function mobx(): System {
  let map = observable.map<string, Comment>(undefined, { deep: false });
  const view = (spec: QuerySpec, limit: number | undefined): IComputedValue<Comment[]> =>
    computed(() => {
      const rows: Comment[] = [];
      for (const c of map.values()) if (matches(spec, c)) rows.push(c);
      return sortAndCut(rows, spec, limit);
    });
  return {
    name: "MobX",
    api: "`observable.map(entries, { deep: false })`, `runInAction(() => map.set(id, entity))`; one `computed` per query that filters and sorts, kept alive by a `reaction`; entity subscriptions: `autorun(() => map.get(id))`",
    load(rows) {
      const next = observable.map<string, Comment>(undefined, { deep: false });
      runInAction(() => {
        for (const c of rows) next.set(c.id, c);
      });
      map = next;
    },
    update(entity) {
      runInAction(() => map.set(entity.id, entity));
    },
    get: (id) => map.get(id)!,
    live(specs, limit) {
      const queries = specs.map((spec) => view(spec, limit));
      const stops = queries.map((q) =>
        reaction(
          () => q.get(),
          () => {},
        ),
      );
      return arrayResults(queries, (q) => q.get(), stops);
    },
    subscribeEntities: (ids) =>
      countedSubscriptions((runs) =>
        ids.map((id) => {
          let first = true;
          return autorun(() => {
            map.get(id);
            if (first) first = false;
            else runs.count++;
          });
        }),
      ),
    cold: (spec) => view(spec, undefined).get(),
    rowId: (row) => (row as Comment).id,
    dispose() {
      map = observable.map<string, Comment>(undefined, { deep: false });
    },
  };
}
