import { computed, type ObservableObject, observable } from "@legendapp/state";
import { arrayResults, countedSubscriptions } from "../shared.js";
import { type Comment, matches, type QuerySpec, type System, sortAndCut } from "../workload.js";

type State = ObservableObject<{ comments: Record<string, Comment> }>;

/**
 * Legend-State: one observable holding the comments by id; one `computed` per query that filters
 * and sorts (Legend-State has no incremental query), kept subscribed with `onChange`; entity
 * subscriptions are `state.comments[id].onChange`.
 */
export function legend(): System {
  let state: State = observable({ comments: {} as Record<string, Comment> });
  const view = (spec: QuerySpec, limit: number | undefined) =>
    computed(() => {
      const all = state.comments.get();
      const rows: Comment[] = [];
      for (const id in all) {
        const c = all[id]!;
        if (matches(spec, c)) rows.push(c);
      }
      return sortAndCut(rows, spec, limit);
    });
  return {
    name: "Legend-State",
    api: "`observable({ comments })`, `state.comments[id].set(entity)`; one `computed(() => filter + sort)` per query, subscribed with `onChange`, read with `get()`; entity subscriptions: `state.comments[id].onChange`",
    load(rows) {
      const comments: Record<string, Comment> = {};
      for (const c of rows) comments[c.id] = c;
      state = observable({ comments });
    },
    update(entity) {
      state.comments[entity.id]!.set(entity);
    },
    get: (id) => state.comments[id]!.peek(),
    live(specs, limit) {
      const queries = specs.map((spec) => view(spec, limit));
      const stops = queries.map((q) => q.onChange(() => {}));
      for (const q of queries) q.get();
      return arrayResults(queries, (q) => q.get(), stops);
    },
    subscribeEntities: (ids) =>
      countedSubscriptions((runs) =>
        ids.map((id) =>
          state.comments[id]!.onChange(() => {
            runs.count++;
          }),
        ),
      ),
    cold: (spec) => view(spec, undefined).get(),
    rowId: (row) => (row as Comment).id,
    dispose() {
      state = observable({ comments: {} as Record<string, Comment> });
    },
  };
}
