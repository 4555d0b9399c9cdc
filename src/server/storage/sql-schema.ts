// The SQL storages' tables, created and upgraded by numbered migrations that each run once per
// database: the version reached is kept in `<prefix>schema`. A start on an up-to-date database
// runs no DDL, so it takes no table lock a running server's commits would wait behind.
import type { SqlQuery } from "./sql.js";

/** One step of the schema: its statements, run in order, in the migration's transaction. */
type Migration = (p: string, now: number) => string[];

/**
 * Every migration, oldest first; a database at version n runs the ones after the n-th. Append
 * only: a released step never changes. The steps are idempotent (IF NOT EXISTS) because
 * databases made before the version table existed start at version 0 with some tables in place.
 */
const MIGRATIONS: Migration[] = [
  // 1: the log, the latest versions and the room heads.
  (p) => [
    `CREATE TABLE IF NOT EXISTS ${p}rooms (room_id text PRIMARY KEY, head bigint NOT NULL DEFAULT 0)`,
    `CREATE TABLE IF NOT EXISTS ${p}log (room_id text NOT NULL, seq bigint NOT NULL, message_id text NOT NULL, user_id text NOT NULL,
      ts double precision NOT NULL, operation text NOT NULL, entity_type text NOT NULL, entity_id text NOT NULL,
      entity jsonb, vector jsonb NOT NULL, conflict jsonb, PRIMARY KEY (room_id, seq))`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${p}log_message ON ${p}log (room_id, message_id)`,
    `CREATE TABLE IF NOT EXISTS ${p}entities (room_id text NOT NULL, entity_type text NOT NULL, entity_id text NOT NULL,
      entity jsonb, vector jsonb NOT NULL, seq bigint NOT NULL, ts double precision NOT NULL, user_id text NOT NULL,
      message_id text NOT NULL, PRIMARY KEY (room_id, entity_type, entity_id))`,
  ],
  // 2: compaction. The lowest cursor the log covers (see SyncStorage.horizon), and the message
  // ids of entries compacted away, so a late resend is still recognized as one.
  (p) => [
    `ALTER TABLE ${p}rooms ADD COLUMN IF NOT EXISTS horizon bigint NOT NULL DEFAULT 0`,
    `CREATE TABLE IF NOT EXISTS ${p}compacted (room_id text NOT NULL, message_id text NOT NULL, entity_type text NOT NULL,
      entity_id text NOT NULL, ts double precision NOT NULL, PRIMARY KEY (room_id, message_id))`,
  ],
  // 3: when the server stored each entry (its clock; `ts` is the writer's, which may be behind):
  // compaction expires tombstones and compacted ids by it. Rows stored before count from the
  // upgrade (the constant default fills them without a rewrite; dropped once they are filled).
  (p, now) => [
    ...["log", "entities", "compacted"].flatMap((table) => [
      `ALTER TABLE ${p}${table} ADD COLUMN IF NOT EXISTS stored_at double precision NOT NULL DEFAULT ${now}`,
      `ALTER TABLE ${p}${table} ALTER COLUMN stored_at DROP DEFAULT`,
    ]),
    `CREATE INDEX IF NOT EXISTS ${p}compacted_stored ON ${p}compacted (room_id, stored_at)`,
    `CREATE INDEX IF NOT EXISTS ${p}entities_tombstone ON ${p}entities (room_id, stored_at) WHERE entity IS NULL`,
  ],
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the tables of prefix `p` to SCHEMA_VERSION, in `query`'s transaction. Serialized
 * between processes starting together on one PostgreSQL by an advisory lock on `lockName`.
 * Resolves with the migrations it ran (0 on an up-to-date database).
 */
export async function migrate(query: SqlQuery, p: string, lockName: string): Promise<number> {
  await query("SELECT pg_advisory_xact_lock(hashtext($1))", [lockName]);
  await query(`CREATE TABLE IF NOT EXISTS ${p}schema (version integer NOT NULL)`);
  const found = await query<{ version: number }>(`SELECT version FROM ${p}schema`);
  const version = Number(found.rows[0]?.version ?? 0);
  const now = Date.now();
  for (const migration of MIGRATIONS.slice(version))
    for (const statement of migration(p, now)) await query(statement);
  if (found.rows.length === 0)
    await query(`INSERT INTO ${p}schema (version) VALUES ($1)`, [SCHEMA_VERSION]);
  else if (version < SCHEMA_VERSION)
    await query(`UPDATE ${p}schema SET version = $1`, [SCHEMA_VERSION]);
  return Math.max(0, SCHEMA_VERSION - version);
}
