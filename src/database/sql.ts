import { KalphiteError, KalphitePersistenceError } from "../core/index.js";

/** Entities, keyed by (type, id), as `json`; `size` is the JSON text's length, for `maxStorageMB`. */
export const ENTITIES = "kalphite_entities";
/** Key/value metadata: schema version, sync cursors, the sync outbox. */
export const META = "kalphite_meta";
/** One row per applied migration. */
export const MIGRATIONS = "kalphite_migrations";
/** Per room and entity: the server's version this client last applied (see sync-state.ts). */
export const SYNC_VERSIONS = "kalphite_sync_versions";
/** Per room: local changes waiting for the server, in the order they were made. */
export const SYNC_OUTBOX = "kalphite_sync_outbox";
/** Per room: the sync cursor and the server's last announced limits. */
export const SYNC_ROOMS = "kalphite_sync_rooms";

/**
 * Set on every connection before anything else.
 *
 * `wal_init_zero = off`: Postgres fills each new 16 MB WAL segment with zeros before using it. On
 * PGlite's in-memory file system (`memory://`, and `idb://` underneath) that fill grows the file
 * 8 kB at a time, copying it over and over: about 100 ms during which the write that needed the
 * segment, and the page with it, is blocked (once per 16 MB of WAL: about 50,000 upserts of small
 * entities). Off, Postgres writes the segment's last byte instead; the docs offer it for file
 * systems where zero-filling gains nothing, and it changes no guarantee: WAL records are written
 * and synced as before.
 */
export const SESSION_SETTINGS = "set wal_init_zero = off";

/**
 * `fillfactor = 80` leaves a fifth of each page of entities free, so that an update usually
 * writes the new row version into the same page (a "HOT" update: no new index entry, and the old
 * version is reclaimed within the page; PGlite runs no autovacuum to do it later). Rewriting 20,000
 * entities over and over: updates about 20% faster, and the table about half the size (13 MB
 * instead of 27 MB after 11 rounds). Tables created before keep the default (100).
 */
export const CREATE_TABLES = `
create table if not exists ${ENTITIES} (
  type text not null,
  id text not null,
  entity json not null,
  size integer not null,
  primary key (type, id)
) with (fillfactor = 80);
create table if not exists ${META} (
  key text primary key,
  value jsonb not null,
  size integer not null
);
create table if not exists ${MIGRATIONS} (
  version integer primary key,
  applied_at double precision not null
);
create table if not exists ${SYNC_VERSIONS} (
  room text not null,
  type text not null,
  id text not null,
  vector json not null,
  seq bigint not null,
  entity json,
  shown boolean not null,
  size integer not null default 0,
  primary key (room, type, id)
);
create table if not exists ${SYNC_OUTBOX} (
  room text not null,
  message_id text not null,
  pos bigserial not null,
  entry jsonb not null,
  size integer not null default 0,
  primary key (room, message_id)
);
create table if not exists ${SYNC_ROOMS} (
  room text primary key,
  cursor bigint not null default 0,
  limits jsonb
);
alter table ${SYNC_VERSIONS} add column if not exists size integer not null default 0;
alter table ${SYNC_OUTBOX} add column if not exists size integer not null default 0;`;

/**
 * Upserts the JSON array of `{t, i, e}` in parameter `param`. Read as `json`, each entity is the
 * parameter's text as written, stored as it is (see json-columns.ts). `json_to_recordset` parses
 * each element once into its columns, where an operator per column parsed it once each: 100,000
 * rows in batches of 10,000 upsert about 25% faster.
 */
const upsertRows = (param: string) => `
insert into ${ENTITIES} (type, id, entity, size)
select r.t, r.i, r.e, octet_length(r.e::text)
from json_to_recordset(${param}::json) r(t text, i text, e json)
on conflict (type, id) do update set entity = excluded.entity, size = excluded.size`;

/** Upserts `$1`, a JSON array of `{t, i, e}`; returns the bytes written. */
export const UPSERT_MANY = `
with written as (${upsertRows("$1")}
  returning size
)
select coalesce(sum(size), 0)::float8 as bytes from written`;

/**
 * `UPSERT_MANY` without counting the bytes written, for when no storage limit needs them: the
 * plain statement runs about 15% faster than one wrapped in a CTE with `returning`.
 */
export const UPSERT_MANY_UNCOUNTED = upsertRows("$1");

/** Deletes `$1`, a JSON array of `[type, id]`. */
export const DELETE_MANY = `
delete from ${ENTITIES} e using jsonb_array_elements($1::jsonb) k
where e.type = k->>0 and e.id = k->>1`;

/**
 * Deletes `$1` (a JSON array of `[type, id]`) and upserts `$2` (a JSON array of `{t, i, e}`) in
 * ONE statement, atomic without a transaction block. Both parts see the table as it was before
 * the statement, so their keys must not overlap.
 */
export const DELETE_AND_UPSERT_MANY = `
with deleted as (${DELETE_MANY}
)${upsertRows("$2")}`;

/** The bytes currently stored for `$1`, a JSON array of `[type, id]`. */
export const SIZE_OF_KEYS = `
select coalesce(sum(e.size), 0)::float8 as bytes
from ${ENTITIES} e join jsonb_array_elements($1::jsonb) k on e.type = k->>0 and e.id = k->>1`;

/** Fixes the `size` of entities changed without it (raw SQL in a migration). */
export const RECOUNT_SIZES = `
update ${ENTITIES} set size = octet_length(entity::text) where size <> octet_length(entity::text)`;

/** The bytes stored: entities, metadata, and the sync tables' versions and outbox. */
export const TOTAL_BYTES = `
select (select coalesce(sum(size), 0) from ${ENTITIES})::float8
     + (select coalesce(sum(size), 0) from ${META})::float8
     + (select coalesce(sum(size), 0) from ${SYNC_VERSIONS})::float8
     + (select coalesce(sum(size), 0) from ${SYNC_OUTBOX})::float8 as bytes`;

/**
 * Wraps a PGlite error in a `KalphitePersistenceError` that says what was being done; Kalphite's
 * own errors (a storage limit, a usage error) pass through as they are.
 */
export function queryError(what: string, error: unknown, query?: string): KalphiteError {
  if (error instanceof KalphiteError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new KalphitePersistenceError(`${what} failed: ${reason}`, {
    cause: error,
    ...(query === undefined ? {} : { query }),
  });
}
