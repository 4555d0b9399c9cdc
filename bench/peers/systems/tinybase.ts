import {
  createIndexes,
  createQueries,
  createStore,
  type Indexes,
  type Row,
  type Store,
} from "tinybase";
import { countedSubscriptions } from "../shared.js";
import type { Comment, QuerySpec, System } from "../workload.js";

const TABLE = "comments";

function toRow(c: Comment): Row {
  return {
    type: c.type,
    updatedAt: c.updatedAt,
    body: c.data.body,
    lineNumber: c.data.lineNumber,
    status: c.data.status,
  };
}

/**
 * TinyBase: one table of flat rows (TinyBase cells are primitives, so `data` is flattened), one
 * Index per query whose single slice holds the matching rows sorted by `updatedAt`, listened to
 * with `addSliceRowIdsListener`; entity subscriptions are `addRowListener`.
 */
export function tinybase(): System {
  let store: Store = createStore();
  const sliceOf = (spec: QuerySpec) => {
    const below = spec.below;
    return (getCell: (cellId: string) => unknown) =>
      (getCell("lineNumber") as number) < below ? "in" : [];
  };
  return {
    name: "TinyBase",
    api: "`createStore().setTable()` of flat rows, `setRow` per update; one `createIndexes().setIndexDefinition(id, table, slice, 'updatedAt', undefined, sorter)` per query, `addSliceRowIdsListener`, read with `getSliceRowIds` (ids, then `getRow` for each row shown); entity subscriptions: `addRowListener(table, id)`",
    load(rows) {
      store = createStore();
      const table: Record<string, Row> = {};
      for (const c of rows) table[c.id] = toRow(c);
      store.setTable(TABLE, table);
    },
    update(entity) {
      store.setRow(TABLE, entity.id, toRow(entity));
    },
    get(id) {
      const row = store.getRow(TABLE, id);
      return {
        id,
        type: "comment",
        updatedAt: row.updatedAt as number,
        data: {
          body: row.body as string,
          lineNumber: row.lineNumber as number,
          status: row.status as Comment["data"]["status"],
        },
      };
    },
    live(specs, limit) {
      const indexes: Indexes = createIndexes(store);
      specs.forEach((spec, i) => {
        indexes.setIndexDefinition(
          `q${i}`,
          TABLE,
          sliceOf(spec),
          "updatedAt",
          undefined,
          spec.descending
            ? (a, b) => (b as number) - (a as number)
            : (a, b) => (a as number) - (b as number),
        );
        indexes.addSliceRowIdsListener(`q${i}`, "in", () => {});
      });
      const ids = (i: number): string[] => {
        const all = indexes.getSliceRowIds(`q${i}`, "in");
        return limit === undefined ? all : all.slice(0, limit);
      };
      return {
        read() {
          let total = 0;
          for (let i = 0; i < specs.length; i++) {
            // A UI renders the rows, not just their ids.
            for (const id of ids(i)) if (store.getRow(TABLE, id).updatedAt !== undefined) total++;
          }
          return total;
        },
        ids,
        stop() {
          indexes.destroy();
        },
      };
    },
    subscribeEntities: (ids) =>
      countedSubscriptions((runs) =>
        ids.map((id) => {
          const listener = store.addRowListener(TABLE, id, () => {
            runs.count++;
          });
          return () => void store.delListener(listener);
        }),
      ),
    cold(spec) {
      const queries = createQueries(store);
      const below = spec.below;
      queries.setQueryDefinition("cold", TABLE, ({ select, where }) => {
        select("updatedAt");
        where((getCell) => (getCell("lineNumber") as number) < below);
      });
      const ids = queries.getResultSortedRowIds("cold", "updatedAt", spec.descending);
      queries.destroy();
      return ids;
    },
    rowId: (row) => row as string,
    dispose() {
      store = createStore();
    },
  };
}
