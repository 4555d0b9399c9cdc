// SyncStorage over SQL, shared by the PGlite and PostgreSQL adapters. Bulk statements take JSON
// (jsonb_to_recordset) so one batch is a fixed handful of queries, whatever its size.
import { entityKey } from "../../core/entity-key.js";
import { KalphiteUsageError } from "../../core/index.js";
import type { LogEntry, SnapshotEntity } from "../../protocol/messages.js";
import type { CurrentVersion } from "../conflict.js";
import { commitBatch } from "./commit-batch.js";
import { CATCH_UP_LIMIT, type SyncStorage } from "./storage.js";

/** Runs one statement. */
export type SqlQuery = <T = Record<string, unknown>>(
  sql: string,
  params?: unknown[],
) => Promise<{ rows: T[] }>;

/** The database operations the SQL storage needs; each adapter provides them. */
export interface SqlDriver {
  query: SqlQuery;
  /** Runs `fn` in one transaction (committed when it resolves, rolled back when it throws). */
  transaction<R>(fn: (query: SqlQuery) => Promise<R>): Promise<R>;
  /** Starts delivering notifications of `channel`; returns a stop function. */
  listen?(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Options of the SQL storages. */
export interface SqlStorageOptions {
  /**
   * Prefix of the tables (letters, digits, `_`), so several deployments or tests share a database.
   * @default "kalphite_"
   */
  tablePrefix?: string;
}

interface LogRow {
  seq: string | number;
  message_id: string;
  user_id: string;
  ts: number;
  operation: "upsert" | "delete";
  entity_type: string;
  entity_id: string;
  entity: unknown;
  vector: Record<string, number>;
  conflict: unknown;
}

interface VersionRow {
  entity_type: string;
  entity_id: string;
  entity: unknown;
  vector: Record<string, number>;
  seq: string | number;
  ts: number;
  user_id: string;
  message_id: string;
}

function toEntry(row: LogRow): LogEntry {
  const entry: LogEntry = {
    seq: Number(row.seq),
    messageId: row.message_id,
    userId: row.user_id,
    timestamp: Number(row.ts),
    operation: row.operation,
    entityType: row.entity_type,
    entityId: row.entity_id,
    vector: row.vector,
  };
  if (row.entity !== null && row.entity !== undefined)
    entry.entity = row.entity as LogEntry["entity"] & object;
  if (row.conflict !== null && row.conflict !== undefined)
    entry.conflict = row.conflict as LogEntry["conflict"] & object;
  return entry;
}

function toVersion(row: VersionRow): SnapshotEntity {
  return {
    entityType: row.entity_type,
    entityId: row.entity_id,
    entity: (row.entity ?? null) as SnapshotEntity["entity"],
    vector: row.vector,
    seq: Number(row.seq),
  };
}

/**
 * A SyncStorage on any SQL driver (PostgreSQL dialect). Creates its tables on first use.
 *
 * @example const storage = await sqlStorage(driver, { tablePrefix: "app_" });
 */
export async function sqlStorage(
  driver: SqlDriver,
  options: SqlStorageOptions = {},
): Promise<SyncStorage> {
  const p = options.tablePrefix ?? "kalphite_";
  if (!/^[a-z_][a-z0-9_]*$/i.test(p))
    throw new KalphiteUsageError(`tablePrefix "${p}" must be letters, digits and _ only.`);
  const channel = `${p}sync`;
  await driver.transaction(async (query) => {
    // Serializes table creation between processes starting together on one PostgreSQL.
    await query("SELECT pg_advisory_xact_lock(hashtext($1))", [channel]);
    await query(
      `CREATE TABLE IF NOT EXISTS ${p}rooms (room_id text PRIMARY KEY, head bigint NOT NULL DEFAULT 0)`,
    );
    await query(
      `CREATE TABLE IF NOT EXISTS ${p}log (room_id text NOT NULL, seq bigint NOT NULL, message_id text NOT NULL, user_id text NOT NULL,
        ts double precision NOT NULL, operation text NOT NULL, entity_type text NOT NULL, entity_id text NOT NULL,
        entity jsonb, vector jsonb NOT NULL, conflict jsonb, PRIMARY KEY (room_id, seq))`,
    );
    await query(
      `CREATE UNIQUE INDEX IF NOT EXISTS ${p}log_message ON ${p}log (room_id, message_id)`,
    );
    // The lowest cursor the log covers (see SyncStorage.horizon); added after the first release.
    await query(`ALTER TABLE ${p}rooms ADD COLUMN IF NOT EXISTS horizon bigint NOT NULL DEFAULT 0`);
    // Message ids of entries compacted away, so a late resend is still recognized as one.
    await query(
      `CREATE TABLE IF NOT EXISTS ${p}compacted (room_id text NOT NULL, message_id text NOT NULL, entity_type text NOT NULL,
        entity_id text NOT NULL, ts double precision NOT NULL, PRIMARY KEY (room_id, message_id))`,
    );
    await query(
      `CREATE TABLE IF NOT EXISTS ${p}entities (room_id text NOT NULL, entity_type text NOT NULL, entity_id text NOT NULL,
        entity jsonb, vector jsonb NOT NULL, seq bigint NOT NULL, ts double precision NOT NULL, user_id text NOT NULL,
        message_id text NOT NULL, PRIMARY KEY (room_id, entity_type, entity_id))`,
    );
    // When the server stored each entry (its clock; `ts` is the writer's, which may be behind):
    // compaction expires tombstones and compacted ids by it. Added after the first release: rows
    // stored before count from the upgrade (the constant default fills them without a rewrite).
    for (const table of ["log", "entities", "compacted"]) {
      await query(
        `ALTER TABLE ${p}${table} ADD COLUMN IF NOT EXISTS stored_at double precision NOT NULL DEFAULT ${Date.now()}`,
      );
      await query(`ALTER TABLE ${p}${table} ALTER COLUMN stored_at DROP DEFAULT`);
    }
    await query(
      `CREATE INDEX IF NOT EXISTS ${p}compacted_stored ON ${p}compacted (room_id, stored_at)`,
    );
    await query(
      `CREATE INDEX IF NOT EXISTS ${p}entities_tombstone ON ${p}entities (room_id, stored_at) WHERE entity IS NULL`,
    );
  });

  const listeners = new Set<(roomId: string, head: number) => void>();
  const notify = (roomId: string, head: number) => {
    for (const listener of listeners) listener(roomId, head);
  };
  // With LISTEN, every process (this one too) hears each commit from PostgreSQL; without it
  // (PGlite, one process) commits are announced directly.
  const stopListening = driver.listen
    ? await driver.listen(channel, (payload) => {
        const colon = payload.indexOf(":");
        notify(payload.slice(colon + 1), Number(payload.slice(0, colon)));
      })
    : undefined;

  return {
    async commit(roomId, changes, decide, commitOptions = {}) {
      const storedAt = commitOptions.now ?? Date.now();
      const { outcomes, head } = await driver.transaction(async (query) => {
        await query(`INSERT INTO ${p}rooms (room_id) VALUES ($1) ON CONFLICT DO NOTHING`, [roomId]);
        const locked = await query<{ head: string | number; horizon: string | number }>(
          `SELECT head, horizon FROM ${p}rooms WHERE room_id = $1 FOR UPDATE`,
          [roomId],
        );
        const head = Number(locked.rows[0]?.head ?? 0);
        const compactedRoom = Number(locked.rows[0]?.horizon ?? 0) > 0;
        const ids = changes.map((c) => c.messageId);
        const existing = new Map<string, LogEntry>();
        // `= ANY(ARRAY(...))` so the planner uses the unique (room_id, message_id) index.
        const dupRows = await query<LogRow>(
          `SELECT * FROM ${p}log WHERE room_id = $1 AND message_id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))`,
          [roomId, JSON.stringify(ids)],
        );
        for (const row of dupRows.rows) existing.set(row.message_id, toEntry(row));
        if (compactedRoom && existing.size < ids.length) {
          // Resends of entries compacted away: answered with their entity's latest entry.
          const compacted = await query<LogRow & { compacted_id: string }>(
            `SELECT c.message_id AS compacted_id, l.* FROM ${p}compacted c
               JOIN ${p}entities e ON e.room_id = c.room_id AND e.entity_type = c.entity_type AND e.entity_id = c.entity_id
               JOIN ${p}log l ON l.room_id = e.room_id AND l.seq = e.seq
             WHERE c.room_id = $1 AND c.message_id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))`,
            [roomId, JSON.stringify(ids.filter((id) => !existing.has(id)))],
          );
          for (const row of compacted.rows) existing.set(row.compacted_id, toEntry(row));
        }
        // Index lookups on (room_id, entity_type, entity_id); the type × id superset is filtered below.
        const versionRows = await query<VersionRow>(
          `SELECT * FROM ${p}entities WHERE room_id = $1
             AND entity_type = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))
             AND entity_id = ANY (ARRAY(SELECT jsonb_array_elements_text($3::jsonb)))`,
          [
            roomId,
            JSON.stringify([...new Set(changes.map((c) => c.entityType))]),
            JSON.stringify([...new Set(changes.map((c) => c.entityId))]),
          ],
        );
        const versions = new Map<string, CurrentVersion>();
        for (const row of versionRows.rows) {
          versions.set(entityKey(row.entity_type, row.entity_id), {
            entity: (row.entity ?? null) as CurrentVersion["entity"],
            vector: row.vector,
            timestamp: Number(row.ts),
            userId: row.user_id,
            messageId: row.message_id,
          });
        }
        const { outcomes, entries } = commitBatch(
          changes,
          {
            head,
            entry: (messageId) => existing.get(messageId),
            version: (entityType, entityId) => versions.get(entityKey(entityType, entityId)),
          },
          decide,
        );
        const last = entries.at(-1);
        if (last) {
          // The last entry of each entity is its new version.
          const touched = new Map(entries.map((e) => [entityKey(e.entityType, e.entityId), e]));
          const rows = entries.map((e) => ({
            seq: e.seq,
            message_id: e.messageId,
            user_id: e.userId,
            ts: e.timestamp,
            operation: e.operation,
            entity_type: e.entityType,
            entity_id: e.entityId,
            entity: e.entity ?? null,
            vector: e.vector,
            conflict: e.conflict ?? null,
          }));
          await query(
            `INSERT INTO ${p}log (room_id, seq, message_id, user_id, ts, operation, entity_type, entity_id, entity, vector, conflict, stored_at)
             SELECT $1, r.seq, r.message_id, r.user_id, r.ts, r.operation, r.entity_type, r.entity_id, r.entity, r.vector, r.conflict, $3
             FROM jsonb_to_recordset($2::jsonb) AS r(seq bigint, message_id text, user_id text, ts double precision, operation text,
               entity_type text, entity_id text, entity jsonb, vector jsonb, conflict jsonb)`,
            [roomId, JSON.stringify(rows), storedAt],
          );
          await query(
            `INSERT INTO ${p}entities (room_id, entity_type, entity_id, entity, vector, seq, ts, user_id, message_id, stored_at)
             SELECT $1, r.entity_type, r.entity_id, r.entity, r.vector, r.seq, r.ts, r.user_id, r.message_id, $3
             FROM jsonb_to_recordset($2::jsonb) AS r(entity_type text, entity_id text, entity jsonb, vector jsonb, seq bigint,
               ts double precision, user_id text, message_id text)
             ON CONFLICT (room_id, entity_type, entity_id) DO UPDATE SET entity = excluded.entity, vector = excluded.vector,
               seq = excluded.seq, ts = excluded.ts, user_id = excluded.user_id, message_id = excluded.message_id,
               stored_at = excluded.stored_at`,
            [
              roomId,
              JSON.stringify(
                [...touched.values()].map((e) => ({
                  entity_type: e.entityType,
                  entity_id: e.entityId,
                  entity: e.entity ?? null,
                  vector: e.vector,
                  seq: e.seq,
                  ts: e.timestamp,
                  user_id: e.userId,
                  message_id: e.messageId,
                })),
              ),
              storedAt,
            ],
          );
          await query(`UPDATE ${p}rooms SET head = $2 WHERE room_id = $1`, [roomId, last.seq]);
          // Delivered to every listening process when the transaction commits.
          if (driver.listen)
            await query("SELECT pg_notify($1, $2)", [channel, `${last.seq}:${roomId}`]);
        }
        // 0 when nothing was appended: nothing to announce.
        return { outcomes, head: last?.seq ?? 0 };
      });
      // Only commits that appended entries are announced (see CommitBatch.entries).
      if (head > 0 && !driver.listen) notify(roomId, head);
      return outcomes;
    },
    async entriesAfter(roomId, after, limit = CATCH_UP_LIMIT) {
      const result = await driver.query<LogRow>(
        `SELECT * FROM ${p}log WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [roomId, after, limit],
      );
      return result.rows.map(toEntry);
    },
    async snapshot(roomId) {
      return driver.transaction(async (query) => {
        // The head first: versions read after it are at least that new, never older.
        const head = await query<{ head: string | number }>(
          `SELECT head FROM ${p}rooms WHERE room_id = $1`,
          [roomId],
        );
        const rows = await query<VersionRow>(`SELECT * FROM ${p}entities WHERE room_id = $1`, [
          roomId,
        ]);
        const versions = rows.rows.map(toVersion);
        return { head: Number(head.rows[0]?.head ?? 0), versions };
      });
    },
    async snapshotPage(roomId, { after, limit }) {
      // Keyset pagination on the primary key's order: each page is an index range scan.
      const rows = after
        ? await driver.query<VersionRow>(
            `SELECT * FROM ${p}entities WHERE room_id = $1 AND (entity_type, entity_id) > ($2, $3)
             ORDER BY entity_type, entity_id LIMIT $4`,
            [roomId, after[0], after[1], limit],
          )
        : await driver.query<VersionRow>(
            `SELECT * FROM ${p}entities WHERE room_id = $1 ORDER BY entity_type, entity_id LIMIT $2`,
            [roomId, limit],
          );
      return rows.rows.map(toVersion);
    },
    async entityCount(roomId) {
      const result = await driver.query<{ n: string | number }>(
        `SELECT count(*) AS n FROM ${p}entities WHERE room_id = $1`,
        [roomId],
      );
      return Number(result.rows[0]?.n ?? 0);
    },
    async horizon(roomId) {
      const result = await driver.query<{ horizon: string | number }>(
        `SELECT horizon FROM ${p}rooms WHERE room_id = $1`,
        [roomId],
      );
      return Number(result.rows[0]?.horizon ?? 0);
    },
    async compact(roomId, { horizon, tombstonesBefore }) {
      return driver.transaction(async (query) => {
        const locked = await query<{ head: string | number }>(
          `SELECT head FROM ${p}rooms WHERE room_id = $1 FOR UPDATE`,
          [roomId],
        );
        const upTo = Math.min(horizon, Number(locked.rows[0]?.head ?? 0));
        if (upTo <= 0) return { removed: 0 };
        // Tombstones past their time (stored before it, on the server's clock): the entity and
        // every entry of it are forgotten.
        const forgotten = await query<{ entity_type: string; entity_id: string }>(
          `DELETE FROM ${p}entities WHERE room_id = $1 AND entity IS NULL AND seq <= $2 AND stored_at < $3
           RETURNING entity_type, entity_id`,
          [roomId, upTo, tombstonesBefore],
        );
        let removed = 0;
        if (forgotten.rows.length > 0) {
          const gone = await query(
            `DELETE FROM ${p}log l USING jsonb_to_recordset($2::jsonb) AS f(entity_type text, entity_id text)
             WHERE l.room_id = $1 AND l.entity_type = f.entity_type AND l.entity_id = f.entity_id RETURNING 1`,
            [roomId, JSON.stringify(forgotten.rows)],
          );
          removed += gone.rows.length;
          await query(
            `DELETE FROM ${p}compacted c USING jsonb_to_recordset($2::jsonb) AS f(entity_type text, entity_id text)
             WHERE c.room_id = $1 AND c.entity_type = f.entity_type AND c.entity_id = f.entity_id`,
            [roomId, JSON.stringify(forgotten.rows)],
          );
        }
        // Entries superseded by a later entry of their entity: their ids are kept for resends.
        const superseded = await query<{ n: string | number }>(
          `WITH dropped AS (
             DELETE FROM ${p}log l USING ${p}entities e
             WHERE l.room_id = $1 AND e.room_id = $1 AND e.entity_type = l.entity_type AND e.entity_id = l.entity_id
               AND l.seq < e.seq AND l.seq <= $2
             RETURNING l.message_id, l.entity_type, l.entity_id, l.ts, l.stored_at),
           kept AS (
             INSERT INTO ${p}compacted (room_id, message_id, entity_type, entity_id, ts, stored_at)
             SELECT $1, message_id, entity_type, entity_id, ts, stored_at FROM dropped ON CONFLICT DO NOTHING)
           SELECT count(*) AS n FROM dropped`,
          [roomId, upTo],
        );
        removed += Number(superseded.rows[0]?.n ?? 0);
        await query(`DELETE FROM ${p}compacted WHERE room_id = $1 AND stored_at < $2`, [
          roomId,
          tombstonesBefore,
        ]);
        await query(`UPDATE ${p}rooms SET horizon = GREATEST(horizon, $2) WHERE room_id = $1`, [
          roomId,
          upTo,
        ]);
        return { removed };
      });
    },
    async head(roomId) {
      const result = await driver.query<{ head: string | number }>(
        `SELECT head FROM ${p}rooms WHERE room_id = $1`,
        [roomId],
      );
      return Number(result.rows[0]?.head ?? 0);
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      await stopListening?.();
      await driver.close();
    },
  };
}
