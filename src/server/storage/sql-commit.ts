// SyncStorage.commit on SQL as two texts of statements, each sent in one round trip: the first
// locks the room and reads what the batch needs (resends, current versions), the second writes
// the batch's entries and versions, moves the head and notifies. The room's lock is held for one
// round trip and the decisions in between, not for a round trip per statement: on PostgreSQL
// under load, the lock's hold time is what bounds a room's commits per second.
import { Buffer } from "node:buffer";
import { entityKey } from "../../core/entity-key.js";
import { KalphiteUsageError } from "../../core/index.js";
import type { LogEntry } from "../../protocol/messages.js";
import type { CurrentVersion, IncomingChange } from "../conflict.js";
import type { StoredRoom } from "./commit-batch.js";

/** One statement's result rows. */
export interface SqlRows<T = Record<string, unknown>> {
  rows: T[];
}

/** A log row as the SQL storages hold it. */
export interface LogRow {
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

/**
 * A string as an SQL literal, for statement texts sent without parameters (several statements
 * in one round trip take none). An escape string (`E'...'`) with `\` and `'` doubled means the
 * same whatever `standard_conforming_strings` says. Values that are not strings travel inside
 * JSON text (`jsonLiteral`), where JSON.stringify has escaped every control character.
 *
 * @example literal("it's") // E'it''s'
 */
export function literal(value: string): string {
  // A statement's text ends at a NUL on the wire: refused, as PostgreSQL refuses it in text.
  if (value.includes("\0"))
    throw new KalphiteUsageError(
      `"${value.replaceAll("\0", "\\0")}" contains a NUL character, which PostgreSQL text cannot hold.`,
    );
  return `E'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** A value as a jsonb literal. */
export function jsonLiteral(value: unknown): string {
  return `${literal(JSON.stringify(value))}::jsonb`;
}

/** A number as an SQL literal (finite, or the statement would not parse). */
function numberLiteral(value: number, what: string): string {
  if (!Number.isFinite(value))
    throw new KalphiteUsageError(`${what} is ${value}: pass a finite number (ms since the epoch).`);
  return String(value);
}

/**
 * A log row as the entry it stores.
 *
 * @example const entry = toEntry(row);
 */
export function toEntry(row: LogRow): LogEntry {
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

/**
 * The statements that lock `roomId` and read what `changes` need, in this order: create the
 * room's row, lock it (head, horizon), the log entries of their message ids, the entries standing
 * for those of them compacted away, the current versions of their entities. Each statement takes
 * its own snapshot (READ COMMITTED), so the reads after the lock see every commit before it.
 */
export function readStatements(
  p: string,
  roomId: string,
  changes: readonly IncomingChange[],
): string[] {
  const room = literal(roomId);
  const ids = jsonLiteral(changes.map((c) => c.messageId));
  // `= ANY(ARRAY(...))` so the planner uses the (room_id, message_id) and primary key indexes.
  const each = (json: string) => `ANY (ARRAY(SELECT jsonb_array_elements_text(${json})))`;
  return [
    `INSERT INTO ${p}rooms (room_id) VALUES (${room}) ON CONFLICT DO NOTHING`,
    `SELECT head, horizon FROM ${p}rooms WHERE room_id = ${room} FOR UPDATE`,
    `SELECT * FROM ${p}log WHERE room_id = ${room} AND message_id = ${each(ids)}`,
    // Resends of entries compacted away: answered with their entity's latest entry. Not looked
    // up in a room never compacted (the EXISTS is evaluated once, first).
    `SELECT c.message_id AS compacted_id, l.* FROM ${p}compacted c
       JOIN ${p}entities e ON e.room_id = c.room_id AND e.entity_type = c.entity_type AND e.entity_id = c.entity_id
       JOIN ${p}log l ON l.room_id = e.room_id AND l.seq = e.seq
     WHERE c.room_id = ${room} AND c.message_id = ${each(ids)}
       AND EXISTS (SELECT 1 FROM ${p}rooms WHERE room_id = ${room} AND horizon > 0)`,
    // One primary-key probe per entity (a subquery per row cannot become a scan of the room,
    // whatever the planner's statistics say: PGlite never gathers any).
    `SELECT k.t AS entity_type, k.i AS entity_id,
       (SELECT jsonb_build_object('entity', e.entity, 'vector', e.vector, 'ts', e.ts, 'user_id', e.user_id,
          'message_id', e.message_id)
        FROM ${p}entities e WHERE e.room_id = ${room} AND e.entity_type = k.t AND e.entity_id = k.i) AS version
     FROM jsonb_to_recordset(${jsonLiteral(entityKeys(changes))}) AS k(t text, i text)`,
  ];
}

/** The distinct entities of `changes`, as {t: type, i: id}. */
function entityKeys(changes: readonly IncomingChange[]): { t: string; i: string }[] {
  const keys = new Map<string, { t: string; i: string }>();
  for (const c of changes)
    keys.set(entityKey(c.entityType, c.entityId), { t: c.entityType, i: c.entityId });
  return [...keys.values()];
}

/** A current version as the read statements return it. */
interface VersionProbe {
  entity_type: string;
  entity_id: string;
  version: {
    entity: unknown;
    vector: Record<string, number>;
    ts: number;
    user_id: string;
    message_id: string;
  } | null;
}

/** What the read statements found, as commitBatch asks for it. */
export function storedRoom(results: readonly SqlRows[]): StoredRoom {
  const [, locked, logged, compacted, versions] = results as [
    unknown,
    SqlRows<{ head: string | number }>,
    SqlRows<LogRow>,
    SqlRows<LogRow & { compacted_id: string }>,
    SqlRows<VersionProbe>,
  ];
  const existing = new Map<string, LogEntry>();
  for (const row of compacted?.rows ?? []) existing.set(row.compacted_id, toEntry(row));
  for (const row of logged?.rows ?? []) existing.set(row.message_id, toEntry(row));
  const current = new Map<string, CurrentVersion>();
  for (const { entity_type, entity_id, version } of versions?.rows ?? [])
    if (version)
      current.set(entityKey(entity_type, entity_id), {
        entity: (version.entity ?? null) as CurrentVersion["entity"],
        vector: version.vector,
        timestamp: Number(version.ts),
        userId: version.user_id,
        messageId: version.message_id,
      });
  return {
    head: Number(locked?.rows[0]?.head ?? 0),
    entry: (messageId) => existing.get(messageId),
    version: (entityType, entityId) => current.get(entityKey(entityType, entityId)),
  };
}

/** The most bytes a NOTIFY payload may hold (PostgreSQL's limit is 8000), with room to spare. */
const PAYLOAD_BYTES = 7_900;
/** A commit whose entries need more notifications than this announces only its head. */
const MAX_PAGES = 16;

/** One notification of a commit's entries (the entries channel). */
export interface EntriesPage {
  room: string;
  head: number;
  page: number;
  pages: number;
  entries: LogEntry[];
}

/**
 * A commit's entries as notification payloads (JSON of EntriesPage, each under 8000 bytes), so
 * other processes broadcast them without reading the log; undefined when they do not fit
 * (an entry too large, or more than MAX_PAGES): then the head alone is announced.
 *
 * @example const payloads = entryPages("room", entries);
 */
export function entryPages(room: string, entries: readonly LogEntry[]): string[] | undefined {
  const head = (entries.at(-1) as LogEntry).seq;
  const envelope = Buffer.byteLength(
    JSON.stringify({ room, head, page: 99, pages: 99, entries: [] }),
  );
  const groups: string[][] = [];
  let group: string[] = [];
  let bytes = envelope;
  for (const entry of entries) {
    const json = JSON.stringify(entry);
    const size = Buffer.byteLength(json) + 1;
    if (envelope + size > PAYLOAD_BYTES) return undefined;
    if (bytes + size > PAYLOAD_BYTES) {
      groups.push(group);
      if (groups.length >= MAX_PAGES) return undefined;
      group = [];
      bytes = envelope;
    }
    group.push(json);
    bytes += size;
  }
  groups.push(group);
  return groups.map((jsons, page) =>
    JSON.stringify({ room, head, page, pages: groups.length, entries: [] }).replace(
      '"entries":[]',
      `"entries":[${jsons.join(",")}]`,
    ),
  );
}

/**
 * One statement that appends `entries` (consecutive seqs, in order) to the log, makes the last
 * entry of each entity its current version, moves the head to the last seq and, with `channel`,
 * notifies it with "<head>:<room>" (delivered to every listener when the transaction commits).
 * The entries travel once, as one jsonb value both inserts read.
 */
export function writeStatement(
  p: string,
  roomId: string,
  entries: readonly LogEntry[],
  storedAt: number,
  channels: { heads: string; entries: string } | undefined,
): string {
  const room = literal(roomId);
  const head = (entries.at(-1) as LogEntry).seq;
  const at = numberLiteral(storedAt, "commit options.now");
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
  // The entries first, then the head (delivered in that order, at commit): a process that heard
  // the entries has broadcast them when the head comes, and one that listens to heads only
  // (an older release) reads the log as before.
  const pages = channels ? (entryPages(roomId, entries) ?? []) : [];
  const announce = channels
    ? `SELECT ${[
        ...pages.map((page) => `pg_notify(${literal(channels.entries)}, ${literal(page)})`),
        `pg_notify(${literal(channels.heads)}, ${literal(`${head}:${roomId}`)})`,
      ].join(", ")}`
    : "SELECT 1";
  return `WITH r AS (
      SELECT * FROM jsonb_to_recordset(${jsonLiteral(rows)}) AS r(seq bigint, message_id text, user_id text,
        ts double precision, operation text, entity_type text, entity_id text, entity jsonb, vector jsonb, conflict jsonb)),
    appended AS (
      INSERT INTO ${p}log (room_id, seq, message_id, user_id, ts, operation, entity_type, entity_id, entity, vector, conflict, stored_at)
      SELECT ${room}, seq, message_id, user_id, ts, operation, entity_type, entity_id, entity, vector, conflict, ${at} FROM r),
    versions AS (
      INSERT INTO ${p}entities (room_id, entity_type, entity_id, entity, vector, seq, ts, user_id, message_id, stored_at)
      SELECT DISTINCT ON (entity_type, entity_id) ${room}, entity_type, entity_id, entity, vector, seq, ts, user_id, message_id, ${at}
      FROM r ORDER BY entity_type, entity_id, seq DESC
      ON CONFLICT (room_id, entity_type, entity_id) DO UPDATE SET entity = excluded.entity, vector = excluded.vector,
        seq = excluded.seq, ts = excluded.ts, user_id = excluded.user_id, message_id = excluded.message_id,
        stored_at = excluded.stored_at),
    moved AS (UPDATE ${p}rooms SET head = ${numberLiteral(head, "The head")} WHERE room_id = ${room})
    ${announce}`;
}
