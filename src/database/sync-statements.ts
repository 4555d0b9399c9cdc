// The sync deltas of one write folded to one statement per table: what SyncStateTable.write runs
// in its own transaction, and what applyChanges runs beside the entity rows in one statement.
import { emptyFold, foldDelta } from "../internal/sync-delta.js";
import { SYNC_OUTBOX, SYNC_ROOMS, SYNC_VERSIONS } from "./sql.js";
import type { SyncDelta } from "./sync-state.js";

/**
 * One statement of a sync write: the room is `$1`, `param` its JSON rows. `sized` says how it
 * changes the bytes stored (for `maxStorageMB`): it `removes` rows, `adds` them, or `replaces`
 * the rows of its keys; without it, it changes no counted row.
 */
export interface SyncStatement {
  sql: string;
  param: string;
  sized?: "removes" | "adds" | "replaces";
}

/** Deletes the room's (`$1`) confirmed versions but those of `$2` (JSON `[type, id]` rows). */
export const RESET_VERSIONS = `delete from ${SYNC_VERSIONS} v where v.room = $1 and not exists (
    select 1 from jsonb_array_elements($2::jsonb) k where v.type = k->>0 and v.id = k->>1)`;

/** The bytes of the versions `$2` (rows `{t, i, ...}`) replaces in room `$1`. */
export const SIZE_OF_VERSIONS = `select coalesce(sum(v.size), 0)::float8 as bytes
  from ${SYNC_VERSIONS} v join json_to_recordset($2::json) r(t text, i text)
  on v.room = $1 and v.type = r.t and v.id = r.i`;

type ConfirmedVersion = Extract<SyncDelta, { kind: "version" }>["version"];
type OutboxEntry = Extract<SyncDelta, { kind: "outbox-add" }>["entry"];
type ServerLimits = Extract<SyncDelta, { kind: "limits" }>["limits"];

/**
 * The deltas folded to one statement per table (the last value of each row wins): each
 * statement takes the room as `$1` and its JSON rows as `$<param>` (`$firstParam`, the next
 * one for the next statement, or `$2` for each when `firstParam` is 0); the statements touch
 * disjoint rows, so they may also run as the parts of ONE statement (see `applyChanges`).
 * `reset` asks for every confirmed version to go first (then they must run in order), but those
 * of `kept` (JSON `[type, id]` rows, the `$2` of `RESET_VERSIONS`): a reset's `keep`.
 */
export function foldStatements(
  taken: readonly { delta: SyncDelta; keep?: readonly (readonly [string, string])[] }[],
  firstParam: number,
  /** A persisted store keeps the entity rows: a shown version's entity is left to its row. */
  keepRows: boolean,
): { reset: boolean; kept: string; statements: SyncStatement[] } {
  const fold = emptyFold<ConfirmedVersion, OutboxEntry, ServerLimits>();
  let keep: readonly (readonly [string, string])[] = [];
  for (const pending of taken) {
    foldDelta(fold, pending.delta);
    if (pending.delta.kind === "reset-versions") keep = pending.keep ?? [];
  }
  const { reset, versions, adds, removes, cursor, limits } = fold;
  const statements: SyncStatement[] = [];
  let n = firstParam;
  const add = (sql: (p: string) => string, rows: unknown, sized?: SyncStatement["sized"]) => {
    const sql_ = sql(`$${firstParam === 0 ? 2 : n++}`);
    statements.push({ sql: sql_, param: JSON.stringify(rows), ...(sized ? { sized } : {}) });
  };
  const forgets: unknown[] = [];
  const sets: unknown[] = [];
  for (const v of versions.values()) {
    if ("forgotten" in v) {
      forgets.push([v.forgotten.entityType, v.forgotten.entityId]);
      continue;
    }
    const { entityType, entityId, vector, seq, entity } = v.version;
    // The entity is stored only when the entity row does not hold it.
    const shown = v.shown && keepRows && entity !== null;
    sets.push({
      t: entityType,
      i: entityId,
      v: vector,
      s: seq,
      e: shown ? null : entity,
      h: shown,
    });
  }
  if (forgets.length > 0) {
    add(
      (p) => `delete from ${SYNC_VERSIONS} v using jsonb_array_elements(${p}::jsonb) k
       where v.room = $1 and v.type = k->>0 and v.id = k->>1`,
      forgets,
      "removes",
    );
  }
  if (sets.length > 0) {
    add(
      // Each element parsed once into its columns (see upsertRows in sql.ts); its size is what
      // its values take as JSON text, plus the keys'.
      (p) => `insert into ${SYNC_VERSIONS} (room, type, id, vector, seq, entity, shown, size)
       select $1, r.t, r.i, r.v, r.s, r.e, r.h,
         octet_length(r.t) + octet_length(r.i) + octet_length(r.v::text)
           + coalesce(octet_length(r.e::text), 4) + 32
       from json_to_recordset(${p}::json) r(t text, i text, v json, s bigint, e json, h boolean)
       on conflict (room, type, id) do update set vector = excluded.vector, seq = excluded.seq,
         entity = excluded.entity, shown = excluded.shown, size = excluded.size`,
      sets,
      "replaces",
    );
  }
  if (removes.size > 0) {
    add(
      (p) => `delete from ${SYNC_OUTBOX} o using jsonb_array_elements_text(${p}::jsonb) m
       where o.room = $1 and o.message_id = m`,
      [...removes],
      "removes",
    );
  }
  if (adds.size > 0) {
    add(
      (p) => `insert into ${SYNC_OUTBOX} (room, message_id, entry, size)
       select $1, r->>'messageId', r, octet_length(r::text)
       from jsonb_array_elements(${p}::jsonb) with ordinality x(r, n)
       order by n on conflict do nothing`,
      [...adds.values()],
      "adds",
    );
  }
  if (cursor !== undefined || limits !== undefined) {
    add(
      (p) => `insert into ${SYNC_ROOMS} (room, cursor, limits)
       values ($1, coalesce((${p}::jsonb->>0)::bigint, 0), nullif(${p}::jsonb->1, 'null'::jsonb))
       on conflict (room) do update set
         cursor = coalesce((${p}::jsonb->>0)::bigint, ${SYNC_ROOMS}.cursor),
         limits = coalesce(nullif(${p}::jsonb->1, 'null'::jsonb), ${SYNC_ROOMS}.limits)`,
      [cursor ?? null, limits ?? null],
    );
  }
  return { reset, kept: JSON.stringify(keep), statements };
}
