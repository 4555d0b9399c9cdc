import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Entity, KalphiteValidationError } from "../core/index.js";
import type { TabLockOptions } from "./tab-lock.js";

/** Where and how a `FrontendDatabase` stores entities. */
export interface DatabaseOptions {
  /**
   * Picks the storage, as PGlite does: `"memory://"` (nothing kept), a directory path in Node
   * (`"./data/app"`), `"idb://name"` in a browser (IndexedDB, survives a reload).
   */
  dbName: string;
  /** The store's schema: every entity is validated with it on write and on read. */
  schema: StandardSchemaV1;
  /**
   * Run `migrations` in `init()` (and refuse a database newer than the known migrations).
   * @default true
   */
  enableMigrations?: boolean;
  /**
   * Allow `backup()` and `restore()`.
   * @default true
   */
  enableBackup?: boolean;
  /**
   * Upper bound on the stored data (the JSON of the entities, the metadata and the sync state's
   * confirmed versions and outbox, in MiB). A write that would pass it fails with
   * `KalphiteStorageLimitError` and writes nothing.
   * @default Infinity (no limit)
   */
  maxStorageMB?: number;
}

/** The seed's name for `DatabaseOptions`. */
export type DatabaseConfig = DatabaseOptions;

/** `DatabaseOptions` plus the database's own options. */
export interface FrontendDatabaseOptions extends DatabaseOptions, TabLockOptions {
  /**
   * Schema changes, by version. `init()` brings the database up to the highest version.
   * @default []
   */
  migrations?: readonly Migration[];
  /**
   * Receives each stored row that no longer passes the schema; the row is then skipped on read
   * (and kept in the database). Without it, reading such a row throws the error.
   * @default undefined (throw)
   */
  onInvalidRow?: (error: KalphiteValidationError) => void;
}

/**
 * One schema change. `up` moves the stored data from `version - 1` to `version`, `down` back;
 * each runs in its own transaction together with the version bump. Migrations see the entity
 * column (`kalphite_entities.entity`) as `jsonb`, whatever it is stored as between them.
 *
 * @example
 * const addPriority: Migration = {
 *   version: 1,
 *   up: (db) => db.exec(`update kalphite_entities set entity = jsonb_set(entity, '{data,priority}', '0') where type = 'comment'`),
 *   down: (db) => db.exec(`update kalphite_entities set entity = entity #- '{data,priority}' where type = 'comment'`),
 * };
 */
export interface Migration {
  version: number;
  up: (db: Database) => Promise<void>;
  down: (db: Database) => Promise<void>;
}

/**
 * What a migration works with: SQL inside its transaction, and raw (unvalidated) entity access.
 * Entities are in `kalphite_entities (type text, id text, entity jsonb, size integer)`.
 */
export interface Database {
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Runs SQL without parameters (several statements allowed). */
  exec(sql: string): Promise<void>;
  /** The stored entities of a type (or of every type), as stored: not validated. */
  entities(entityType?: string): Promise<Entity[]>;
  /** Stores a value as the entity `(entityType, entityId)`, without validation. */
  put(entityType: string, entityId: string, value: unknown): Promise<void>;
  /** Removes an entity; true if it existed. */
  remove(entityType: string, entityId: string): Promise<boolean>;
}

/** Keeps the entities for which it returns true (see `db.query`). */
export type QueryFilter<T> = (entity: T) => boolean;
/** The sort key of an entity (see `db.query`); compared like `store.comment.orderBy`. */
export type QueryOrderBy<T> = (entity: T) => any;

/** Progress of a full read (`db.entities()`, hydration). */
export interface LoadProgress {
  loaded: number;
  total: number;
}

/** Options of `db.entities()`. */
export interface LoadOptions {
  /** Called after each page read. */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Rows per query.
   * @default 10000
   */
  pageSize?: number;
}
