import type { Transaction } from "@electric-sql/pglite";
import { KalphitePersistenceError } from "../core/index.js";
import { SCHEMA_VERSION_KEY, writeVersion } from "./migrations.js";
import {
  ENTITIES,
  META,
  MIGRATIONS,
  SYNC_OUTBOX,
  SYNC_ROOMS,
  SYNC_VERSIONS,
  UPSERT_MANY,
} from "./sql.js";

/** One room's cursor and the server's last announced limits (`kalphite_sync_rooms`). */
export interface BackupSyncRoom {
  room: string;
  cursor: number;
  limits: unknown;
}

/** One local change waiting for the server (`kalphite_sync_outbox`), in the order made. */
export interface BackupOutboxRow {
  room: string;
  messageId: string;
  entry: unknown;
}

/** The server's version of one entity this client last applied (`kalphite_sync_versions`). */
export interface BackupVersionRow {
  room: string;
  type: string;
  id: string;
  vector: unknown;
  seq: number;
  /** The entity, unless `shown` (then the entity row holds it). */
  entity: unknown;
  shown: boolean;
}

/** The sync engines' state, table by table (format version 2). */
export interface BackupSync {
  rooms: BackupSyncRoom[];
  /** Every room's outbox, in the order its entries were made. */
  outbox: BackupOutboxRow[];
  versions: BackupVersionRow[];
}

/**
 * The content of a backup Blob (JSON). Version 1 had no `sync` (the sync state then lived in
 * `meta`); a version 1 backup restores with empty sync tables.
 */
export interface BackupContent {
  format: typeof BACKUP_FORMAT;
  formatVersion: 1 | 2;
  /** The database's schema version (highest applied migration) when it was backed up. */
  schemaVersion: number;
  createdAt: number;
  /** Every metadata entry except the schema version. */
  meta: Record<string, unknown>;
  /** Every stored entity, as stored. */
  entities: { type: string; id: string; entity: unknown }[];
  /** The sync state (format version 2; absent in version 1). */
  sync?: BackupSync;
}

export const BACKUP_FORMAT = "kalphite-backup";
/** The format version `backup()` writes. */
export const BACKUP_FORMAT_VERSION = 2;

const notABackup = (why: string) =>
  new KalphitePersistenceError(
    `This Blob is not a Kalphite backup (${why}); nothing was restored. Pass a Blob made by db.backup().`,
  );

/** Parses and checks a backup; throws a clear error, before anything is written, if it is not one. */
export async function readBackup(blob: Blob): Promise<BackupContent> {
  if (!blob || typeof (blob as Blob).text !== "function") throw notABackup("not a Blob");
  let parsed: unknown;
  try {
    parsed = JSON.parse(await blob.text());
  } catch {
    throw notABackup("not valid JSON: it is corrupted or in another format");
  }
  if (parsed === null || typeof parsed !== "object") throw notABackup("not a JSON object");
  const content = parsed as Partial<BackupContent>;
  if (content.format !== BACKUP_FORMAT)
    throw notABackup(`format is ${JSON.stringify(content.format)}`);
  if (content.formatVersion !== 1 && content.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw notABackup(
      `backup format version ${String(content.formatVersion)} is not supported by this Kalphite version`,
    );
  }
  if (!Number.isInteger(content.schemaVersion) || (content.schemaVersion as number) < 0) {
    throw notABackup("schemaVersion is missing");
  }
  if (content.meta === null || typeof content.meta !== "object" || Array.isArray(content.meta)) {
    throw notABackup("meta is missing");
  }
  if (!Array.isArray(content.entities)) throw notABackup("entities is missing");
  content.entities.forEach((row, index) => {
    if (
      row === null ||
      typeof row !== "object" ||
      typeof row.type !== "string" ||
      typeof row.id !== "string" ||
      row.entity === null ||
      typeof row.entity !== "object"
    ) {
      throw notABackup(`entity row ${index} is malformed`);
    }
  });
  if (content.formatVersion === 1) delete content.sync;
  else checkSync(content.sync);
  return content as BackupContent;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);
const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;

/** Checks the sync tables of a version 2 backup, row by row. */
function checkSync(sync: unknown): asserts sync is BackupSync {
  if (!isObject(sync)) throw notABackup("sync is missing");
  const table = (name: string, valid: (row: Record<string, unknown>) => boolean) => {
    const rows = sync[name];
    if (!Array.isArray(rows)) throw notABackup(`sync.${name} is missing`);
    rows.forEach((row, index) => {
      if (!isObject(row) || typeof row.room !== "string" || !valid(row)) {
        throw notABackup(`sync.${name} row ${index} is malformed`);
      }
    });
  };
  table("rooms", (row) => isCount(row.cursor) && (row.limits === null || isObject(row.limits)));
  table("outbox", (row) => typeof row.messageId === "string" && isObject(row.entry));
  table(
    "versions",
    (row) =>
      typeof row.type === "string" &&
      typeof row.id === "string" &&
      isObject(row.vector) &&
      isCount(row.seq) &&
      (row.entity === null || isObject(row.entity)) &&
      typeof row.shown === "boolean",
  );
}

/** Reads the three sync tables for a backup (the outbox of each room in the order made). */
export async function readSyncTables(tx: Transaction): Promise<BackupSync> {
  const rooms = await tx.query<BackupSyncRoom>(
    `select room, cursor::float8 as cursor, limits from ${SYNC_ROOMS} order by room`,
  );
  const outbox = await tx.query<BackupOutboxRow>(
    `select room, message_id as "messageId", entry from ${SYNC_OUTBOX} order by room, pos`,
  );
  const versions = await tx.query<BackupVersionRow>(
    `select room, type, id, vector, seq::float8 as seq, entity, shown
     from ${SYNC_VERSIONS} order by room, type, id`,
  );
  return { rooms: rooms.rows, outbox: outbox.rows, versions: versions.rows };
}

/** Writes a backup's sync tables into emptied ones, inside the restore's transaction. */
export async function writeSyncTables(tx: Transaction, sync: BackupSync): Promise<void> {
  await tx.query(
    `insert into ${SYNC_ROOMS} (room, cursor, limits)
     select r->>'room', (r->>'cursor')::bigint, nullif(r->'limits', 'null'::jsonb)
     from jsonb_array_elements($1::jsonb) r`,
    [JSON.stringify(sync.rooms)],
  );
  // In the backup's order, so that the new positions keep each outbox in the order made.
  await tx.query(
    `insert into ${SYNC_OUTBOX} (room, message_id, entry, size)
     select r->>'room', r->>'messageId', r->'entry', octet_length((r->'entry')::text)
     from jsonb_array_elements($1::jsonb) with ordinality x(r, n) order by n`,
    [JSON.stringify(sync.outbox)],
  );
  await tx.query(
    `insert into ${SYNC_VERSIONS} (room, type, id, vector, seq, entity, shown, size)
     select r->>'room', r->>'type', r->>'id', r->'vector', (r->>'seq')::bigint,
       nullif(r->'entity', 'null'::jsonb), (r->>'shown')::boolean, octet_length(r::text)
     from jsonb_array_elements($1::jsonb) r`,
    [JSON.stringify(sync.versions)],
  );
}

/** Everything in the database as a backup's content, read inside `tx` (one snapshot). */
export async function readBackupContent(tx: Transaction): Promise<BackupContent> {
  const entities = await tx.query<{ type: string; id: string; entity: unknown }>(
    `select type, id, entity from ${ENTITIES} order by type, id`,
  );
  const meta = await tx.query<{ key: string; value: unknown }>(
    `select key, value from ${META} where key <> $1 order by key`,
    [SCHEMA_VERSION_KEY],
  );
  const version = await tx.query<{ version: number | null }>(
    `select max(version) as version from ${MIGRATIONS}`,
  );
  return {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    schemaVersion: version.rows[0]?.version ?? 0,
    createdAt: Date.now(),
    meta: Object.fromEntries(meta.rows.map((row) => [row.key, row.value])),
    entities: entities.rows,
    sync: await readSyncTables(tx),
  };
}

/**
 * Replaces everything in the database with a backup's content inside `tx`: `rows` are its
 * entities as `{t, i, e}` (checked by the caller). `step` is told the statement running, for
 * the error.
 */
export async function writeBackupContent(
  tx: Transaction,
  content: BackupContent,
  rows: readonly { t: string; i: string; e: unknown }[],
  step: (sql: string) => void,
): Promise<void> {
  await tx.exec(
    `delete from ${ENTITIES}; delete from ${META}; delete from ${MIGRATIONS}; delete from ${SYNC_VERSIONS}; delete from ${SYNC_OUTBOX}; delete from ${SYNC_ROOMS};`,
  );
  step(UPSERT_MANY);
  await tx.query(UPSERT_MANY, [JSON.stringify(rows)]);
  step("");
  for (let v = 1; v <= content.schemaVersion; v++) {
    await tx.query(`insert into ${MIGRATIONS} (version, applied_at) values ($1, $2)`, [
      v,
      Date.now(),
    ]);
  }
  await writeVersion(tx, content.schemaVersion);
  if (content.sync) await writeSyncTables(tx, content.sync);
  const sql = `insert into ${META} (key, value, size) values ($1, $2::jsonb, octet_length($2::jsonb::text))`;
  step(sql);
  for (const [key, value] of Object.entries(content.meta))
    await tx.query(sql, [key, JSON.stringify(value)]);
  step("");
}
