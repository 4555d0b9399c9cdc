import { KalphiteError, KalphitePersistenceError } from "../core/index.js";

/** Entities, keyed by (type, id); `size` is the JSON text's length, for `maxStorageMB`. */
export const ENTITIES = "kalphite_entities";
/** Key/value metadata: schema version, sync cursors, the sync outbox. */
export const META = "kalphite_meta";
/** One row per applied migration. */
export const MIGRATIONS = "kalphite_migrations";

export const CREATE_TABLES = `
create table if not exists ${ENTITIES} (
  type text not null,
  id text not null,
  entity jsonb not null,
  size integer not null,
  primary key (type, id)
);
create table if not exists ${META} (
  key text primary key,
  value jsonb not null,
  size integer not null
);
create table if not exists ${MIGRATIONS} (
  version integer primary key,
  applied_at double precision not null
);`;

/** Upserts `$1`, a JSON array of `{t, i, e}`; returns the bytes written. */
export const UPSERT_MANY = `
with written as (
  insert into ${ENTITIES} (type, id, entity, size)
  select r->>'t', r->>'i', r->'e', octet_length((r->'e')::text)
  from jsonb_array_elements($1::jsonb) r
  on conflict (type, id) do update set entity = excluded.entity, size = excluded.size
  returning size
)
select coalesce(sum(size), 0)::float8 as bytes from written`;

/** Deletes `$1`, a JSON array of `[type, id]`. */
export const DELETE_MANY = `
delete from ${ENTITIES} e using jsonb_array_elements($1::jsonb) k
where e.type = k->>0 and e.id = k->>1`;

/** The bytes currently stored for `$1`, a JSON array of `[type, id]`. */
export const SIZE_OF_KEYS = `
select coalesce(sum(e.size), 0)::float8 as bytes
from ${ENTITIES} e join jsonb_array_elements($1::jsonb) k on e.type = k->>0 and e.id = k->>1`;

/** Fixes the `size` of entities changed without it (raw SQL in a migration). */
export const RECOUNT_SIZES = `
update ${ENTITIES} set size = octet_length(entity::text) where size <> octet_length(entity::text)`;

/** The bytes stored: entities and metadata. */
export const TOTAL_BYTES = `
select (select coalesce(sum(size), 0) from ${ENTITIES})::float8
     + (select coalesce(sum(size), 0) from ${META})::float8 as bytes`;

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
