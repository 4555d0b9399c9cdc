// SyncStorage over SQL, shared by the PGlite and PostgreSQL adapters. Bulk statements take JSON
// (jsonb_to_recordset) so one batch is a fixed handful of queries, whatever its size.
import { KalphiteUsageError } from "../../core/index.js";
import type { LogEntry, SnapshotEntity } from "../../protocol/messages.js";
import { commitBatch } from "./commit-batch.js";
import {
  type EntriesPage,
  readStatements,
  type SqlRows,
  storedRoom,
  writeStatement,
} from "./sql-commit.js";
import { migrate } from "./sql-schema.js";
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
  /**
   * Runs one transaction of two steps, each a list of statements without parameters (values
   * inlined as literals) sent in one round trip: `first`, then the statements `next` returns
   * from `first`'s results (one per statement), and commits. Without it, each statement is a
   * `query` of its own in a `transaction`.
   */
  script?<R>(first: readonly string[], next: (results: SqlRows[]) => ScriptStep<R>): Promise<R>;
  /**
   * Starts delivering notifications of `channel`; returns a stop function. `fromThisProcess`
   * says the notification was sent by one of this driver's own connections (a commit of this
   * process, which its hub broadcasts without hearing it).
   */
  listen?(
    channel: string,
    onPayload: (payload: string, fromThisProcess?: boolean) => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export type { SqlRows } from "./sql-commit.js";

/** What the second step of `SqlDriver.script` runs (none: just commit), and its result. */
export interface ScriptStep<R> {
  statements: readonly string[];
  value: R;
}

/** Options of the SQL storages. */
export interface SqlStorageOptions {
  /**
   * Prefix of the tables (letters, digits, `_`), so several deployments or tests share a database.
   * @default "kalphite_"
   */
  tablePrefix?: string;
}

/**
 * The rows of `rowsSql` as ONE JSON array text of `json` (an expression over its columns),
 * ordered by `order`. The database builds each entry's or version's JSON, so the driver hands
 * over one string instead of decoding a row of eight cells per entity: PGlite's decoding was
 * about 60% of the server's time for a join of a big room.
 */
const asJsonPage = (json: string, rowsSql: string, order: string) =>
  `SELECT coalesce(json_agg(${json} ORDER BY ${order})::text, '[]') AS page FROM (${rowsSql}) r`;

/** A version row as its SnapshotEntity. */
const VERSION_JSON = `json_build_object('entityType', r.entity_type, 'entityId', r.entity_id,
  'entity', r.entity, 'vector', r.vector, 'seq', r.seq)`;

/** A log row as its LogEntry (see toEntry): `entity` and `conflict` only when set. */
const ENTRY_JSON = `(jsonb_build_object('seq', r.seq, 'messageId', r.message_id, 'userId', r.user_id,
  'timestamp', r.ts, 'operation', r.operation, 'entityType', r.entity_type,
  'entityId', r.entity_id, 'vector', r.vector)
  || CASE WHEN r.entity IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('entity', r.entity) END
  || CASE WHEN r.conflict IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('conflict', r.conflict) END)`;

const parsePage = <T>(rows: { page: string }[]): T[] => JSON.parse(rows[0]?.page ?? "[]") as T[];

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
  // Every name made from it must fit PostgreSQL's 63 bytes: a longer NOTIFY channel
  // ("<prefix>sync_entries") fails every commit, and a longer index name ("<prefix>entities_tombstone")
  // is silently cut.
  if (p.length > 45)
    throw new KalphiteUsageError(
      `tablePrefix "${p}" is ${p.length} characters; at most 45 leave room for the names made from it.`,
    );
  const channel = `${p}sync`;
  await driver.transaction((query) => migrate(query, p, channel));

  const script: NonNullable<SqlDriver["script"]> =
    driver.script?.bind(driver) ??
    ((first, next) =>
      driver.transaction(async (query) => {
        const results: SqlRows[] = [];
        for (const statement of first) results.push(await query(statement));
        const step = next(results);
        for (const statement of step.statements) await query(statement);
        return step.value;
      }));

  type Listener = Parameters<SyncStorage["onCommit"]>[0];
  const listeners = new Set<Listener>();
  const notify: Listener = (roomId, head, byThisProcess, entries) => {
    for (const listener of listeners) listener(roomId, head, byThisProcess, entries);
  };
  const channels = { heads: channel, entries: `${channel}_entries` };
  // Pages of other processes' commits, by "<head>:<room>", until the last one comes.
  const pending = new Map<string, { pages: LogEntry[][]; got: number }>();
  const onEntries = (payload: string, fromThisProcess?: boolean) => {
    // This process's own commits are broadcast from their result; heads re-announced after a
    // reconnect are not pages.
    if (fromThisProcess || !payload.startsWith("{")) return;
    const page = JSON.parse(payload) as EntriesPage;
    const key = `${page.head}:${page.room}`;
    let group = pending.get(key);
    if (!group) {
      group = { pages: [], got: 0 };
      pending.set(key, group);
      // Groups left incomplete (the connection dropped between pages) are forgotten.
      if (pending.size > 64) pending.delete(pending.keys().next().value as string);
    }
    group.pages[page.page] = page.entries;
    if (++group.got < page.pages) return;
    pending.delete(key);
    notify(page.room, page.head, false, group.pages.flat());
  };
  // With LISTEN, every process (this one too) hears each commit from PostgreSQL; without it
  // (PGlite, one process) commits are announced directly.
  const stopListening = driver.listen
    ? await driver.listen(channel, (payload, fromThisProcess) => {
        const colon = payload.indexOf(":");
        notify(payload.slice(colon + 1), Number(payload.slice(0, colon)), fromThisProcess === true);
      })
    : undefined;
  const stopListeningEntries = driver.listen
    ? await driver.listen(channels.entries, onEntries)
    : undefined;

  return {
    async commit(roomId, changes, decide, commitOptions = {}) {
      const storedAt = commitOptions.now ?? Date.now();
      const { outcomes, head } = await script(readStatements(p, roomId, changes), (results) => {
        const { outcomes, entries } = commitBatch(changes, storedRoom(results), decide);
        const last = entries.at(-1);
        return {
          statements: last
            ? [writeStatement(p, roomId, entries, storedAt, driver.listen ? channels : undefined)]
            : [],
          // 0 when nothing was appended: nothing to announce.
          value: { outcomes, head: last?.seq ?? 0 },
        };
      });
      // Only commits that appended entries are announced (see CommitBatch.entries).
      if (head > 0 && !driver.listen) notify(roomId, head, true);
      return outcomes;
    },
    async entriesAfter(roomId, after, limit = CATCH_UP_LIMIT) {
      const result = await driver.query<{ page: string }>(
        asJsonPage(
          ENTRY_JSON,
          `SELECT * FROM ${p}log WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
          "r.seq",
        ),
        [roomId, after, limit],
      );
      return parsePage<LogEntry>(result.rows);
    },
    async snapshot(roomId) {
      return driver.transaction(async (query) => {
        // The head first: versions read after it are at least that new, never older.
        const head = await query<{ head: string | number }>(
          `SELECT head FROM ${p}rooms WHERE room_id = $1`,
          [roomId],
        );
        const rows = await query<{ page: string }>(
          asJsonPage(
            VERSION_JSON,
            `SELECT * FROM ${p}entities WHERE room_id = $1`,
            "r.entity_type, r.entity_id",
          ),
          [roomId],
        );
        const versions = parsePage<SnapshotEntity>(rows.rows);
        return { head: Number(head.rows[0]?.head ?? 0), versions };
      });
    },
    async snapshotPage(roomId, { after, limit }) {
      // Keyset pagination on the primary key's order: each page is an index range scan.
      const order = "r.entity_type, r.entity_id";
      const rows = after
        ? await driver.query<{ page: string }>(
            asJsonPage(
              VERSION_JSON,
              `SELECT * FROM ${p}entities WHERE room_id = $1 AND (entity_type, entity_id) > ($2, $3)
               ORDER BY entity_type, entity_id LIMIT $4`,
              order,
            ),
            [roomId, after[0], after[1], limit],
          )
        : await driver.query<{ page: string }>(
            asJsonPage(
              VERSION_JSON,
              `SELECT * FROM ${p}entities WHERE room_id = $1 ORDER BY entity_type, entity_id LIMIT $2`,
              order,
            ),
            [roomId, limit],
          );
      return parsePage<SnapshotEntity>(rows.rows);
    },
    async entityCount(roomId, atMost) {
      const result =
        atMost === undefined
          ? await driver.query<{ n: string | number }>(
              `SELECT count(*) AS n FROM ${p}entities WHERE room_id = $1`,
              [roomId],
            )
          : await driver.query<{ n: string | number }>(
              `SELECT count(*) AS n FROM (SELECT 1 FROM ${p}entities WHERE room_id = $1 LIMIT $2) r`,
              [roomId, Math.max(0, Math.floor(atMost))],
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
      await stopListeningEntries?.();
      await driver.close();
    },
  };
}
