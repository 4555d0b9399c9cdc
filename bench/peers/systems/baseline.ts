import {
  batch,
  computed,
  effect,
  type ReadonlySignal,
  type Signal,
  signal,
} from "@preact/signals-core";
import { Entity } from "../../../test/fixtures/schema.js";
import { arrayResults, countedSubscriptions } from "../shared.js";
import { type Comment, matches, type QuerySpec, type System, sortAndCut } from "../workload.js";

function validate(value: unknown): Comment {
  const result = Entity["~standard"].validate(value);
  if (result instanceof Promise || result.issues) throw new Error("invalid");
  return structuredCloneLite(result.value as Comment);
}

/** The same copy Kalphite keeps of each entity (a caller's object never aliases the store's). */
function structuredCloneLite(c: Comment): Comment {
  return { id: c.id, type: c.type, updatedAt: c.updatedAt, data: { ...c.data } };
}

/**
 * The naive signals baseline: a `Map` of plain `@preact/signals-core` signals (one per entity, plus
 * a signal of the id set), and one `computed` per query that filters and sorts everything.
 * Writes are validated with the same arktype schema.
 */
export function signalsBaseline(): System {
  let entities = new Map<string, Signal<Comment>>();
  let keys = signal(0);
  const view = (spec: QuerySpec, limit: number | undefined): ReadonlySignal<Comment[]> =>
    computed(() => {
      keys.value;
      const rows: Comment[] = [];
      for (const s of entities.values()) {
        const c = s.value;
        if (matches(spec, c)) rows.push(c);
      }
      return sortAndCut(rows, spec, limit);
    });
  return {
    name: "Signals baseline",
    api: "`Map<string, Signal<Comment>>` + one `computed` per query that filters and sorts everything (arktype-validated writes)",
    load(rows) {
      entities = new Map();
      keys = signal(0);
      batch(() => {
        for (const row of rows) entities.set(row.id, signal(validate(row)));
        keys.value++;
      });
    },
    update(entity) {
      const next = validate(entity);
      const s = entities.get(next.id);
      if (s) s.value = next;
      else {
        entities.set(next.id, signal(next));
        keys.value++;
      }
    },
    get: (id) => entities.get(id)!.peek(),
    live(specs, limit) {
      const queries = specs.map((spec) => view(spec, limit));
      const stops = queries.map((q) => q.subscribe(() => {}));
      return arrayResults(queries, (q) => q.value, stops);
    },
    subscribeEntities: (ids) =>
      countedSubscriptions((runs) =>
        ids.map((id) => {
          const s = entities.get(id)!;
          let first = true;
          return effect(() => {
            s.value;
            if (first) first = false;
            else runs.count++;
          });
        }),
      ),
    cold: (spec) => view(spec, undefined).value,
    rowId: (row) => (row as Comment).id,
    dispose() {
      entities = new Map();
    },
  };
}

/** The floor: a plain `Map.set` per write, no validation, no queries, a Map of listeners. */
export function floor(): System {
  let entities = new Map<string, Comment>();
  let listeners = new Map<string, () => void>();
  return {
    name: "Floor (Map.set)",
    noQueries: true,
    api: "a plain `Map.set` per write (no validation, no reactivity); listeners in a `Map` by id",
    load(rows) {
      entities = new Map();
      for (const row of rows) entities.set(row.id, row);
    },
    update(entity) {
      entities.set(entity.id, entity);
      listeners.get(entity.id)?.();
    },
    get: (id) => entities.get(id)!,
    live() {
      return { read: () => 0, ids: () => [], stop() {} };
    },
    subscribeEntities: (ids) =>
      countedSubscriptions((runs) => {
        listeners = new Map();
        for (const id of ids) listeners.set(id, () => runs.count++);
        return [
          () => {
            listeners = new Map();
          },
        ];
      }),
    cold(spec) {
      const rows: Comment[] = [];
      for (const c of entities.values()) if (matches(spec, c)) rows.push(c);
      return sortAndCut(rows, spec);
    },
    rowId: (row) => (row as Comment).id,
    dispose() {
      entities = new Map();
    },
  };
}
