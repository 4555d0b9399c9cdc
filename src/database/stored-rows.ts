// Entity rows read as one JSON text per page, and written as one JSON parameter per batch.
import type { PGlite, Transaction } from "@electric-sql/pglite";
import { entityKey } from "../core/entity-key.js";
import { type Entity, KalphiteUsageError } from "../core/index.js";
import type { FlushChange } from "../flush/index.js";
import { durableTransaction } from "./durable-transaction.js";
import {
  DELETE_AND_UPSERT_MANY,
  DELETE_MANY,
  ENTITIES,
  queryError,
  SIZE_OF_KEYS,
  UPSERT_MANY,
  UPSERT_MANY_UNCOUNTED,
} from "./sql.js";
import type { StorageBudget } from "./storage-budget.js";
import type { SyncStatement } from "./sync-state.js";
import type { LoadOptions } from "./types.js";

/** Stored rows, column by column: `values[i]` is stored under `types[i]`, `ids[i]`. */
export interface StoredRows {
  types: string[];
  ids: string[];
  values: unknown[];
}

/**
 * Reads the rows of `rowsSql` (selecting `type, id, entity`, ordered) as ONE JSON text
 * `[[types...], [ids...], [entities...]]`: PGlite then decodes and parses a single string instead
 * of building a result row per entity, which reads about three times faster. Keys and entities
 * come in separate aggregates: `json_agg(json_build_array(type, id, entity))` spends about 30% of
 * the query categorising the three values of every row again, where `json_agg(type)` does it once.
 * The aggregates of one query take the rows in the order the subquery gives them, all alike, so
 * the columns line up and stay in order without each aggregate sorting them again.
 */
export function aggregateRows(rowsSql: string): string {
  return `select coalesce('[' || json_agg(s.type)::text || ',' || json_agg(s.id)::text
    || ',[' || string_agg(s.entity::text, ',') || ']]', '[[],[],[]]') as page
    from (${rowsSql}) s`;
}

export function parseRows(rows: { page: string }[]): StoredRows {
  const [types, ids, values] = JSON.parse(rows[0]?.page ?? "[[],[],[]]") as [
    string[],
    string[],
    unknown[],
  ];
  return { types, ids, values };
}

/**
 * Every entity row, in pages of `pageSize` (keyset pagination: each page is an index range
 * scan, however deep), handed to `page` as they come, with progress reports. The total is
 * counted (a scan of the table) only for `onProgress`.
 */
export async function readAllRows(
  pg: PGlite,
  options: LoadOptions,
  page: (rows: StoredRows) => void,
): Promise<void> {
  const pageSize = Math.max(1, options.pageSize ?? 10_000);
  let sql = `select count(*)::int as total from ${ENTITIES}`;
  try {
    const { onProgress } = options;
    const total = onProgress ? ((await pg.query<{ total: number }>(sql)).rows[0]?.total ?? 0) : 0;
    let loaded = 0;
    let after: [string, string] | undefined;
    for (;;) {
      sql = aggregateRows(
        `select type, id, entity from ${ENTITIES} ${after ? "where (type, id) > ($1, $2) " : ""}order by type, id limit ${pageSize}`,
      );
      const rows = parseRows((await pg.query<{ page: string }>(sql, after ?? [])).rows);
      page(rows);
      const count = rows.ids.length;
      loaded += count;
      onProgress?.({ loaded, total: Math.max(total, loaded) });
      if (count < pageSize || count === 0) return;
      after = [rows.types[count - 1]!, rows.ids[count - 1]!];
    }
  } catch (error) {
    throw queryError("Reading all entities", error, sql);
  }
}

/**
 * A flush batch as rows to write: the last change to each entity (Postgres cannot upsert a row
 * twice in one statement), upserts validated by `validate`; `latest` by entity key.
 */
export function rowWrites(
  changes: readonly FlushChange[],
  validate: (change: FlushChange) => Entity,
): { latest: Map<string, FlushChange>; rows: RowWrites } {
  const latest = new Map<string, FlushChange>();
  for (const change of changes) {
    const key = entityKey(change.entityType, change.entityId);
    latest.delete(key);
    latest.set(key, change);
  }
  const rows: RowWrites = { count: latest.size, upserts: [], deletes: [] };
  for (const change of latest.values()) {
    if (change.operation === "upsert") {
      rows.upserts.push({ t: change.entityType, i: change.entityId, e: validate(change) });
    } else if (change.operation === "delete") {
      rows.deletes.push([change.entityType, change.entityId]);
    } else {
      throw new KalphiteUsageError(
        `Unknown flush operation "${String((change as FlushChange).operation)}": expected "upsert" or "delete".`,
      );
    }
  }
  return { latest, rows };
}

/** Entity rows to write: upserts as `{t, i, e}` (type, id, entity), deletes as `[type, id]`. */
export interface RowWrites {
  /** How many changes the batch had (for the error message). */
  count: number;
  upserts: { t: string; i: string; e: Entity }[];
  deletes: [string, string][];
}

/**
 * Entity rows and one room's sync state as the parts of ONE statement (data-modifying CTEs on
 * disjoint rows): atomic without BEGIN and COMMIT, so a local write and its outbox row cost
 * one round trip into PGlite. Only without a storage limit (nothing is counted).
 */
export async function writeInOneStatement(
  pg: PGlite,
  { count, upserts, deletes }: RowWrites,
  room: string,
  statements: readonly SyncStatement[],
): Promise<void> {
  const parts = statements.map((statement) => statement.sql);
  const params: unknown[] = [room, ...statements.map((statement) => statement.param)];
  if (deletes.length > 0) {
    params.push(JSON.stringify(deletes));
    parts.push(DELETE_MANY.replaceAll("$1", `$${params.length}`));
  }
  if (upserts.length > 0) {
    params.push(JSON.stringify(upserts));
    parts.push(UPSERT_MANY_UNCOUNTED.replaceAll("$1", `$${params.length}`));
  }
  const sql = `with ${parts.map((part, i) => `w${i} as (${part})`).join(", ")} select 1`;
  try {
    await pg.query(sql, params);
  } catch (error) {
    throw queryError(`Writing ${count} change(s) with the sync state`, error, sql);
  }
}

/**
 * Writes entity rows, and whatever `alsoInTransaction` writes with them (returning the bytes
 * it grew the database by), atomically; under a storage limit, refuses (rolls back) a batch
 * that would grow the database past it. Returns the change in bytes stored (0 without a limit),
 * for the caller to add once it committed.
 */
export async function writeRows(
  pg: PGlite,
  budget: StorageBudget,
  { count, upserts, deletes }: RowWrites,
  alsoInTransaction: ((tx: Transaction) => Promise<number>) | undefined,
): Promise<number> {
  let sql = "";
  const limited = budget.limited;
  try {
    if (!limited && alsoInTransaction === undefined) {
      // Without a storage limit nothing needs checking between the writes and the COMMIT:
      // ONE statement is atomic on its own and saves BEGIN and COMMIT (two round trips into
      // PGlite per batch). Outside a transaction, PGlite writes its pages out after the
      // statement (`syncToFs`), as `durableTransaction` does after a COMMIT.
      if (deletes.length === 0) {
        sql = UPSERT_MANY_UNCOUNTED;
        await pg.query(sql, [JSON.stringify(upserts)]);
      } else if (upserts.length === 0) {
        sql = DELETE_MANY;
        await pg.query(sql, [JSON.stringify(deletes)]);
      } else {
        sql = DELETE_AND_UPSERT_MANY;
        await pg.query(sql, [JSON.stringify(deletes), JSON.stringify(upserts)]);
      }
      return 0;
    }
    // Under a limit, the bytes the batch replaces and writes are checked before the COMMIT.
    return await durableTransaction(pg, async (tx) => {
      let before = 0;
      if (limited) {
        sql = SIZE_OF_KEYS;
        const keys = [...deletes, ...upserts.map((u): [string, string] => [u.t, u.i])];
        before = (await tx.query<{ bytes: number }>(sql, [JSON.stringify(keys)])).rows[0]!.bytes;
      }
      if (deletes.length > 0) {
        sql = DELETE_MANY;
        await tx.query(sql, [JSON.stringify(deletes)]);
      }
      let written = 0;
      if (upserts.length > 0) {
        sql = limited ? UPSERT_MANY : UPSERT_MANY_UNCOUNTED;
        const result = await tx.query<{ bytes: number }>(sql, [JSON.stringify(upserts)]);
        if (limited) written = result.rows[0]!.bytes;
      }
      sql = "";
      const grown = alsoInTransaction ? await alsoInTransaction(tx) : 0;
      if (!limited) return 0;
      return grown >= 0
        ? budget.change(before, written + grown)
        : budget.change(before - grown, written);
    });
  } catch (error) {
    throw queryError(`Writing ${count} change(s)`, error, sql || undefined);
  }
}
