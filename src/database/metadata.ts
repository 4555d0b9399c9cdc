// Metadata values (`db.getMeta`, `setMeta`, `deleteMeta`): JSON under a key, counted against
// `maxStorageMB` like the entities.
import type { PGlite } from "@electric-sql/pglite";
import { KalphiteUsageError } from "../core/index.js";
import { durableTransaction } from "./durable-transaction.js";
import { SCHEMA_VERSION_KEY } from "./migrations.js";
import { META, queryError } from "./sql.js";
import type { StorageBudget } from "./storage-budget.js";

/** Refuses the key the migrations keep (and, to set, an empty one). */
export function checkMetaKey(key: string, use: "set" | "delete"): void {
  if (use === "set" && (typeof key !== "string" || key === "")) {
    throw new KalphiteUsageError("setMeta(key, value) needs a non-empty string key.");
  }
  if (key === SCHEMA_VERSION_KEY) {
    throw new KalphiteUsageError(
      use === "set"
        ? `"${key}" is kept by the migrations; choose another key.`
        : `"${key}" is kept by the migrations and cannot be deleted.`,
    );
  }
}

/** The JSON text of a value to set under `key`, checked. */
export function metaJson(key: string, value: unknown): string {
  checkMetaKey(key, "set");
  const json = value === undefined ? undefined : JSON.stringify(value);
  if (json === undefined) {
    throw new KalphiteUsageError(
      `setMeta("${key}", value) needs a JSON value; to remove the key call deleteMeta("${key}").`,
    );
  }
  return json;
}

export async function readMeta<T>(pg: PGlite, key: string): Promise<T | undefined> {
  const sql = `select value from ${META} where key = $1`;
  try {
    const row = (await pg.query<{ value: T }>(sql, [key])).rows[0];
    return row?.value;
  } catch (error) {
    throw queryError(`Reading metadata "${key}"`, error, sql);
  }
}

/** Stores `json` under `key` durably (refused past the storage limit). */
export async function writeMeta(
  pg: PGlite,
  budget: StorageBudget,
  key: string,
  json: string,
): Promise<void> {
  const sql = `insert into ${META} (key, value, size) values ($1, $2::jsonb, octet_length($2::jsonb::text))
    on conflict (key) do update set value = excluded.value, size = excluded.size returning size`;
  try {
    const change = await durableTransaction(pg, async (tx) => {
      // The running total only matters under a limit: skip the lookup without one.
      const before = budget.limited
        ? ((await tx.query<{ size: number }>(`select size from ${META} where key = $1`, [key]))
            .rows[0]?.size ?? 0)
        : 0;
      const written = (await tx.query<{ size: number }>(sql, [key, json])).rows[0]!.size;
      return budget.change(before, written);
    });
    budget.bytes += change;
  } catch (error) {
    throw queryError(`Writing metadata "${key}"`, error, sql);
  }
}

/** Removes `key`; true if it existed. */
export async function removeMeta(pg: PGlite, budget: StorageBudget, key: string): Promise<boolean> {
  const sql = `delete from ${META} where key = $1 returning size`;
  try {
    const rows = (await pg.query<{ size: number }>(sql, [key])).rows;
    for (const row of rows) budget.bytes -= row.size;
    return rows.length > 0;
  } catch (error) {
    throw queryError(`Deleting metadata "${key}"`, error, sql);
  }
}
