import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { entityKey } from "../core/entity-key.js";
import {
  compareKeys,
  type Entity,
  type EntityId,
  KalphiteStorageLimitError,
  KalphiteUsageError,
  KalphiteValidationError,
} from "../core/index.js";
import { validateEntity } from "../core/schema.js";
import type { FlushChange } from "../flush/index.js";
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  type BackupContent,
  readBackup,
  readSyncTables,
  writeSyncTables,
} from "./backup-format.js";
import { lockDataDir } from "./dir-lock.js";
import { durableTransaction } from "./durable-transaction.js";
import {
  currentVersion,
  migrate,
  SCHEMA_VERSION_KEY,
  sortMigrations,
  writeVersion,
} from "./migrations.js";
import {
  CREATE_TABLES,
  DELETE_AND_UPSERT_MANY,
  DELETE_MANY,
  ENTITIES,
  META,
  MIGRATIONS,
  queryError,
  SESSION_SETTINGS,
  SIZE_OF_KEYS,
  SYNC_OUTBOX,
  SYNC_ROOMS,
  SYNC_VERSIONS,
  TOTAL_BYTES,
  UPSERT_MANY,
  UPSERT_MANY_UNCOUNTED,
} from "./sql.js";
import { SyncStateTable } from "./sync-state.js";
import { acquireTabLock, type TabLock, type TabLockMode } from "./tab-lock.js";
import type {
  FrontendDatabaseOptions,
  LoadOptions,
  Migration,
  QueryFilter,
  QueryOrderBy,
} from "./types.js";

const MB = 1024 * 1024;

/** Stored rows, column by column: `values[i]` is stored under `types[i]`, `ids[i]`. */
interface StoredRows {
  types: string[];
  ids: string[];
  values: unknown[];
}

/**
 * Reads the rows of `rowsSql` (selecting `type, id, entity`, ordered) as ONE JSON text
 * `[[types...], [ids...], [entities...]]`: PGlite then decodes and parses a single string instead
 * of building a result row per entity, which reads about three times faster. Keys and entities
 * come in separate aggregates: `json_agg(json_build_array(type, id, entity))` spends about 30% of
 * the query categorising the three values of every row again, where `json_agg(type)` does it once.
 * The aggregates of one query take the rows in the order the subquery gives them, all alike, so
 * the columns line up and stay in order without each aggregate sorting them again.
 */
function aggregateRows(rowsSql: string): string {
  return `select coalesce('[' || json_agg(s.type)::text || ',' || json_agg(s.id)::text
    || ',[' || string_agg(s.entity::text, ',') || ']]', '[[],[],[]]') as page
    from (${rowsSql}) s`;
}

function parseRows(rows: { page: string }[]): StoredRows {
  const [types, ids, values] = JSON.parse(rows[0]?.page ?? "[[],[],[]]") as [
    string[],
    string[],
    unknown[],
  ];
  return { types, ids, values };
}

/**
 * Entities on PGlite: one table keyed by (type, id) holding each entity as `jsonb`, a metadata
 * table (schema version, sync cursors, anything set with `setMeta`) and a migrations table.
 * Every write is validated against the schema, every read too. An `idb://` database is open in
 * one tab at a time (see the `lock` option).
 *
 * @example
 * const db = new FrontendDatabase({ dbName: "idb://code-review", schema: Entity });
 * await db.init();
 * await db.upsert("comment", "c1", comment);
 * const open = await db.query("comment", (c) => c.data.status === "open", (c) => c.updatedAt);
 */
export class FrontendDatabase<E extends Entity = Entity> {
  readonly #config: Required<
    Omit<FrontendDatabaseOptions, "onInvalidRow" | "migrations" | "schema" | "lock">
  >;
  readonly #migrations: Migration[];
  readonly #onInvalidRow: ((error: KalphiteValidationError) => void) | undefined;
  readonly #schema: StandardSchemaV1<unknown, E>;
  readonly #lockMode: TabLockMode;
  #pg: PGlite | undefined;
  /** The tab lock of an open `idb://` database, released by `close()`. */
  #lock: TabLock | undefined;
  /** Stops a `lock: "wait"` that is still waiting when `close()` is called. */
  readonly #lockWait = new AbortController();
  #opening: Promise<void> | undefined;
  #closed = false;
  /** Bytes stored (entities + meta), tracked only when `maxStorageMB` is finite. */
  #bytes = 0;
  /** The sync state of each room a NetworkSyncEngine asked for (`syncState`). */
  readonly #syncStates = new Map<string, SyncStateTable>();
  /** The writes that carry sync state, in order: see `#serialize`. */
  #writes: Promise<unknown> = Promise.resolve();

  constructor(options: FrontendDatabaseOptions & { schema: StandardSchemaV1<unknown, E> }) {
    if (typeof options?.dbName !== "string" || options.dbName === "") {
      throw new KalphiteUsageError(
        'FrontendDatabase needs a dbName: "memory://", a directory path (Node) or "idb://name" (browser).',
      );
    }
    if (typeof options.schema?.["~standard"]?.validate !== "function") {
      throw new KalphiteUsageError(
        "FrontendDatabase needs the store's schema (a Standard Schema) to validate entities.",
      );
    }
    const maxStorageMB = options.maxStorageMB ?? Number.POSITIVE_INFINITY;
    if (typeof maxStorageMB !== "number" || Number.isNaN(maxStorageMB) || maxStorageMB <= 0) {
      throw new KalphiteUsageError(
        `maxStorageMB must be a positive number, got ${String(maxStorageMB)}.`,
      );
    }
    this.#config = {
      dbName: options.dbName,
      enableMigrations: options.enableMigrations ?? true,
      enableBackup: options.enableBackup ?? true,
      maxStorageMB,
    };
    const lock = options.lock ?? "fail";
    if (lock !== "fail" && lock !== "wait") {
      throw new KalphiteUsageError(`lock must be "fail" or "wait", got ${String(lock)}.`);
    }
    this.#lockMode = lock;
    this.#migrations = sortMigrations(options.migrations ?? []);
    this.#onInvalidRow = options.onInvalidRow;
    this.#schema = options.schema as StandardSchemaV1<unknown, E>;
  }

  /** The storage this database was opened with. */
  get dbName(): string {
    return this.#config.dbName;
  }

  /**
   * Opens PGlite, creates the tables and runs the migrations. Idempotent: later calls (and calls
   * made while it runs) return the same promise; after a failure, the next call tries again.
   * Other methods call it when needed.
   *
   * An `idb://` database is first locked for this tab: when another tab has it open, `init()`
   * rejects with a `KalphitePersistenceError` for which `isDatabaseLocked(error)` is true and
   * opens nothing (or, with `lock: "wait"`, waits until the other tab closes it).
   *
   * @example await db.init();
   */
  init(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    this.#opening ??= this.#open().catch((error) => {
      this.#opening = undefined;
      throw error;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    let lock: TabLock | undefined;
    try {
      // A directory in Node is claimed by this process (see lockDataDir); `lock: "wait"` applies
      // to browser tabs only.
      const dir = directoryOf(this.#config.dbName);
      lock =
        dir === undefined
          ? await acquireTabLock(this.#config.dbName, this.#lockMode, this.#lockWait.signal)
          : lockDataDir(dir);
    } catch (error) {
      if (this.#closed) throw closedError();
      throw error;
    }
    try {
      await this.#openLocked();
    } catch (error) {
      lock?.release();
      throw error;
    }
    this.#lock = lock;
  }

  async #openLocked(): Promise<void> {
    // close() during a lock wait that was granted anyway: open nothing.
    if (this.#closed) throw closedError();
    let pg: PGlite;
    try {
      pg = await PGlite.create(this.#config.dbName);
    } catch (error) {
      throw queryError(`Opening the database "${this.#config.dbName}"`, error);
    }
    try {
      await pg.exec(SESSION_SETTINGS);
      await pg.exec(CREATE_TABLES);
      const version = await currentVersion(pg);
      const known = this.#migrations.at(-1)?.version ?? 0;
      if (this.#config.enableMigrations) {
        if (version > known) {
          throw new KalphiteUsageError(
            `The database "${this.#config.dbName}" is at schema version ${version}, newer than the highest migration given (${known}). Open it with the app version that wrote it, or pass migrations up to ${version} and call db.migrateTo(${known}).`,
          );
        }
        await migrate(pg, this.#migrations, known);
      }
      await this.#countBytes(pg);
    } catch (error) {
      await pg.close().catch(() => {});
      throw queryError(`Initializing the database "${this.#config.dbName}"`, error);
    }
    this.#pg = pg;
  }

  async #ready(): Promise<PGlite> {
    if (this.#closed) throw closedError();
    await this.init();
    return this.#pg!;
  }

  /** The schema version: the highest migration applied, 0 if none. */
  async getSchemaVersion(): Promise<number> {
    return currentVersion(await this.#ready());
  }

  /**
   * Runs the `down` (or `up`) migrations to reach `version`, each in its own transaction.
   *
   * @example await db.migrateTo(1); // undo migration 2
   */
  async migrateTo(version: number): Promise<void> {
    const pg = await this.#ready();
    await migrate(pg, this.#migrations, version);
    await this.#countBytes(pg);
  }

  /**
   * Validates and stores one entity.
   *
   * @example await db.upsert("comment", "c1", comment);
   */
  async upsert(entityType: string, entityId: EntityId, entity: E): Promise<void> {
    await this.applyChanges([
      { operation: "upsert", entityType, entityId, entity, timestamp: Date.now() },
    ]);
  }

  /**
   * Deletes one entity; true if it existed.
   *
   * @example await db.delete("comment", "c1");
   */
  async delete(entityType: string, entityId: EntityId): Promise<boolean> {
    const pg = await this.#ready();
    const sql = `delete from ${ENTITIES} where type = $1 and id = $2 returning size`;
    try {
      const result = await pg.query<{ size: number }>(sql, [entityType, entityId]);
      for (const row of result.rows) this.#bytes -= row.size;
      return result.rows.length > 0;
    } catch (error) {
      throw queryError(`Deleting ${entityType} "${entityId}"`, error, sql);
    }
  }

  /**
   * Writes a batch of flush changes as ONE transaction: all of them or, on any error, none.
   * Upserts are validated first; the last change to an entity wins. This is the flush target
   * `persist()` uses.
   *
   * @example engine = new MemoryFlushEngine({ flushTarget: (changes) => db.applyChanges(changes) });
   */
  async applyChanges(changes: readonly FlushChange[]): Promise<void> {
    // One change per entity: Postgres cannot upsert a row twice in one statement.
    const latest = new Map<string, FlushChange>();
    for (const change of changes) {
      const key = entityKey(change.entityType, change.entityId);
      latest.delete(key);
      latest.set(key, change);
    }
    const upserts: { t: string; i: string; e: E }[] = [];
    const deletes: [string, string][] = [];
    for (const change of latest.values()) {
      if (change.operation === "upsert") {
        const entity = validateEntity(
          this.#schema,
          change.entity,
          change.entityType,
          change.entityId,
        );
        upserts.push({ t: change.entityType, i: change.entityId, e: entity });
      } else if (change.operation === "delete") {
        deletes.push([change.entityType, change.entityId]);
      } else {
        throw new KalphiteUsageError(
          `Unknown flush operation "${String(change.operation)}": expected "upsert" or "delete".`,
        );
      }
    }
    // Now, before any await: the sync deltas recorded with these entity changes may go with them.
    for (const state of this.#syncStates.values()) state.mark(latest);
    await this.#serialize(async () => {
      const taken = [...this.#syncStates.values()].map((state) => [state, state.take()] as const);
      const withSync = taken.filter(([, deltas]) => deltas.length > 0);
      if (upserts.length === 0 && deletes.length === 0 && withSync.length === 0) return;
      try {
        const [only] = withSync;
        const one =
          only && withSync.length === 1 && !this.#limited
            ? only[0].statements(only[1], 2)
            : undefined;
        if (one && !one.reset) {
          await this.#writeOneStatement(
            latest.size,
            upserts,
            deletes,
            only![0].room,
            one.statements,
          );
        } else {
          await this.#writeEntities(
            latest.size,
            upserts,
            deletes,
            async (tx) => {
              for (const [state, deltas] of withSync) await state.write(tx, deltas);
            },
            withSync.length > 0,
          );
        }
      } catch (error) {
        for (const [state, deltas] of withSync) state.putBack(deltas);
        throw error;
      }
      for (const [state, deltas] of withSync) state.committed(deltas);
    });
  }

  /**
   * The sync state of one room, written incrementally in this database's sync tables (a row per
   * confirmed version and per outbox entry, the cursor in one row). Give the database to a
   * NetworkSyncEngine (`database: db`) and it uses this. Deltas recorded with an entity change
   * are committed in the same transaction as that entity's row by `applyChanges` (the flush
   * target of `persist()`).
   *
   * @example new NetworkSyncEngine({ ...config, persistence: db.syncState("pr-42") });
   */
  syncState(roomId: string): SyncStateTable {
    if (typeof roomId !== "string" || roomId === "") {
      throw new KalphiteUsageError("syncState(roomId) needs a non-empty string roomId.");
    }
    let state = this.#syncStates.get(roomId);
    if (state === undefined) {
      state = new SyncStateTable(
        this,
        { ready: () => this.#ready(), serialize: (fn) => this.#serialize(fn) },
        roomId,
      );
      this.#syncStates.set(roomId, state);
    }
    return state;
  }

  /** Runs `fn` after the writes queued before it, so that sync state commits in order. */
  #serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(fn, fn);
    this.#writes = run.catch(() => {});
    return run;
  }

  /**
   * Entity rows and one room's sync state as the parts of ONE statement (data-modifying CTEs on
   * disjoint rows): atomic without BEGIN and COMMIT, so a local write and its outbox row cost
   * one round trip into PGlite.
   */
  async #writeOneStatement(
    count: number,
    upserts: { t: string; i: string; e: E }[],
    deletes: [string, string][],
    room: string,
    statements: readonly { sql: string; param: string }[],
  ): Promise<void> {
    const parts = statements.map((statement) => statement.sql);
    const params: unknown[] = [room, ...statements.map((statement) => statement.param)];
    if (deletes.length > 0) {
      params.push(JSON.stringify(deletes));
      parts.push(DELETE_MANY.replaceAll("$1", `$${params.length}`));
    }
    if (upserts.length > 0) {
      params.push(JSON.stringify(upserts));
      parts.push(UPSERT_MANY_UNCOUNTED.replaceAll("$1", `$${params.length}`));
    }
    const sql = `with ${parts.map((part, i) => `w${i} as (${part})`).join(", ")} select 1`;
    const pg = await this.#ready();
    try {
      await pg.query(sql, params);
    } catch (error) {
      throw queryError(`Writing ${count} change(s) with the sync state`, error, sql);
    }
  }

  async #writeEntities(
    count: number,
    upserts: { t: string; i: string; e: E }[],
    deletes: [string, string][],
    alsoInTransaction: (tx: Transaction) => Promise<void>,
    needsTransaction: boolean,
  ): Promise<void> {
    const pg = await this.#ready();
    let sql = "";
    try {
      if (!this.#limited && !needsTransaction) {
        // Without a storage limit nothing needs checking between the writes and the COMMIT:
        // ONE statement is atomic on its own and saves BEGIN and COMMIT (two round trips into
        // PGlite per batch). Outside a transaction, PGlite writes its pages out after the
        // statement (`syncToFs`), as `durableTransaction` does after a COMMIT.
        if (deletes.length === 0) {
          sql = UPSERT_MANY_UNCOUNTED;
          await pg.query(sql, [JSON.stringify(upserts)]);
        } else if (upserts.length === 0) {
          sql = DELETE_MANY;
          await pg.query(sql, [JSON.stringify(deletes)]);
        } else {
          sql = DELETE_AND_UPSERT_MANY;
          await pg.query(sql, [JSON.stringify(deletes), JSON.stringify(upserts)]);
        }
        return;
      }
      // Under a limit, the bytes the batch replaces and writes are checked before the COMMIT.
      const limited = this.#limited;
      this.#bytes = await durableTransaction(pg, async (tx) => {
        let before = 0;
        if (limited) {
          sql = SIZE_OF_KEYS;
          const keys = [...deletes, ...upserts.map((u): [string, string] => [u.t, u.i])];
          before = (await tx.query<{ bytes: number }>(sql, [JSON.stringify(keys)])).rows[0]!.bytes;
        }
        if (deletes.length > 0) {
          sql = DELETE_MANY;
          await tx.query(sql, [JSON.stringify(deletes)]);
        }
        let written = 0;
        if (upserts.length > 0) {
          sql = limited ? UPSERT_MANY : UPSERT_MANY_UNCOUNTED;
          const result = await tx.query<{ bytes: number }>(sql, [JSON.stringify(upserts)]);
          if (limited) written = result.rows[0]!.bytes;
        }
        sql = "";
        await alsoInTransaction(tx);
        return limited ? this.#bytesAfter(before, written) : this.#bytes;
      });
    } catch (error) {
      throw queryError(`Writing ${count} change(s)`, error, sql || undefined);
    }
  }

  /**
   * One entity, validated; `undefined` if absent (or invalid and `onInvalidRow` is set).
   *
   * @example const c1 = await db.getById("comment", "c1");
   */
  async getById(entityType: string, entityId: EntityId): Promise<E | undefined> {
    const pg = await this.#ready();
    const sql = `select entity from ${ENTITIES} where type = $1 and id = $2`;
    let rows: { entity: unknown }[];
    try {
      rows = (await pg.query<{ entity: unknown }>(sql, [entityType, entityId])).rows;
    } catch (error) {
      throw queryError(`Reading ${entityType} "${entityId}"`, error, sql);
    }
    const row = rows[0];
    return row === undefined ? undefined : this.#checkRow(row.entity, entityType, entityId);
  }

  /**
   * Every entity of a type, by id, validated.
   *
   * @example const reviews = await db.getByType("review");
   */
  async getByType(entityType: string): Promise<E[]> {
    const pg = await this.#ready();
    const sql = aggregateRows(
      `select type, id, entity from ${ENTITIES} where type = $1 order by id`,
    );
    let rows: StoredRows;
    try {
      rows = parseRows((await pg.query<{ page: string }>(sql, [entityType])).rows);
    } catch (error) {
      throw queryError(`Reading the ${entityType} entities`, error, sql);
    }
    const entities: E[] = [];
    this.#checkRows(rows, entities);
    return entities;
  }

  /**
   * The entities of a type that pass `filter`, sorted by `orderBy` (ascending, compared like
   * `store.comment.orderBy`), or by id without one.
   *
   * @example await db.query("comment", (c) => c.data.lineNumber > 10, (c) => c.updatedAt);
   */
  async query<T extends E = E>(
    entityType: string,
    filter?: QueryFilter<T>,
    orderBy?: QueryOrderBy<T>,
  ): Promise<T[]> {
    let entities = (await this.getByType(entityType)) as T[];
    if (filter) entities = entities.filter((entity) => filter(entity));
    if (orderBy) {
      const keyed = entities.map((entity) => ({ entity, key: orderBy(entity) }));
      keyed.sort((a, b) => compareKeys(a.key, b.key) || compareKeys(a.entity.id, b.entity.id));
      entities = keyed.map(({ entity }) => entity);
    }
    return entities;
  }

  /**
   * Every stored entity of every type, validated, read in pages with progress reports. This is
   * what hydration reads.
   *
   * @example const all = await db.entities({ onProgress: ({ loaded, total }) => bar(loaded / total) });
   */
  async entities(options: LoadOptions = {}): Promise<E[]> {
    const pg = await this.#ready();
    const pageSize = Math.max(1, options.pageSize ?? 10_000);
    let sql = `select count(*)::int as total from ${ENTITIES}`;
    try {
      const total = (await pg.query<{ total: number }>(sql)).rows[0]?.total ?? 0;
      const entities: E[] = [];
      let loaded = 0;
      let after: [string, string] | undefined;
      // Keyset pagination: each page is an index range scan, however deep.
      for (;;) {
        const page = `select type, id, entity from ${ENTITIES} ${after ? "where (type, id) > ($1, $2) " : ""}order by type, id limit ${pageSize}`;
        sql = aggregateRows(page);
        const rows = parseRows((await pg.query<{ page: string }>(sql, after ?? [])).rows);
        this.#checkRows(rows, entities);
        const count = rows.ids.length;
        loaded += count;
        options.onProgress?.({ loaded, total: Math.max(total, loaded) });
        if (count < pageSize || count === 0) return entities;
        after = [rows.types[count - 1]!, rows.ids[count - 1]!];
      }
    } catch (error) {
      throw queryError("Reading all entities", error, sql);
    }
  }

  /**
   * A metadata value (sync cursor, outbox, ...), or `undefined`.
   *
   * @example const cursor = await db.getMeta<number>("sync:cursor");
   */
  async getMeta<T>(key: string): Promise<T | undefined> {
    const pg = await this.#ready();
    const sql = `select value from ${META} where key = $1`;
    try {
      const row = (await pg.query<{ value: T }>(sql, [key])).rows[0];
      return row?.value;
    } catch (error) {
      throw queryError(`Reading metadata "${key}"`, error, sql);
    }
  }

  /**
   * Stores a JSON-serializable metadata value under `key` (replacing the old one), durably.
   *
   * @example await db.setMeta("sync:outbox", pendingMessages);
   */
  async setMeta(key: string, value: unknown): Promise<void> {
    if (typeof key !== "string" || key === "") {
      throw new KalphiteUsageError("setMeta(key, value) needs a non-empty string key.");
    }
    if (key === SCHEMA_VERSION_KEY) {
      throw new KalphiteUsageError(`"${key}" is kept by the migrations; choose another key.`);
    }
    const json = value === undefined ? undefined : JSON.stringify(value);
    if (json === undefined) {
      throw new KalphiteUsageError(
        `setMeta("${key}", value) needs a JSON value; to remove the key call deleteMeta("${key}").`,
      );
    }
    const pg = await this.#ready();
    const sql = `insert into ${META} (key, value, size) values ($1, $2::jsonb, octet_length($2::jsonb::text))
      on conflict (key) do update set value = excluded.value, size = excluded.size returning size`;
    try {
      this.#bytes = await durableTransaction(pg, async (tx) => {
        // The running total only matters under a limit: skip the lookup without one.
        const before = this.#limited
          ? ((await tx.query<{ size: number }>(`select size from ${META} where key = $1`, [key]))
              .rows[0]?.size ?? 0)
          : 0;
        const written = (await tx.query<{ size: number }>(sql, [key, json])).rows[0]!.size;
        return this.#bytesAfter(before, written);
      });
    } catch (error) {
      throw queryError(`Writing metadata "${key}"`, error, sql);
    }
  }

  /**
   * Removes a metadata key; true if it existed.
   *
   * @example await db.deleteMeta("sync:outbox");
   */
  async deleteMeta(key: string): Promise<boolean> {
    if (key === SCHEMA_VERSION_KEY) {
      throw new KalphiteUsageError(`"${key}" is kept by the migrations and cannot be deleted.`);
    }
    const pg = await this.#ready();
    const sql = `delete from ${META} where key = $1 returning size`;
    try {
      const rows = (await pg.query<{ size: number }>(sql, [key])).rows;
      for (const row of rows) this.#bytes -= row.size;
      return rows.length > 0;
    } catch (error) {
      throw queryError(`Deleting metadata "${key}"`, error, sql);
    }
  }

  /**
   * Everything in the database (entities as stored, metadata, schema version, and every room's
   * sync state: cursor, confirmed versions and the outbox of changes not yet sent) as a JSON Blob.
   *
   * @example const blob = await db.backup(); download(blob, "kalphite-backup.json");
   */
  async backup(): Promise<Blob> {
    this.#assertBackup("backup");
    const pg = await this.#ready();
    try {
      const content = await durableTransaction(pg, async (tx): Promise<BackupContent> => {
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
      });
      return new Blob([JSON.stringify(content)], { type: "application/json" });
    } catch (error) {
      throw queryError("Backing up the database", error);
    }
  }

  /**
   * Replaces everything in the database (the sync state too) with a backup from `backup()`, in
   * one transaction, then runs the migrations newer than the backup. A backup of the first
   * format (without sync state) leaves the sync tables empty. A corrupted or foreign Blob, a
   * backup from a newer schema, an entity the schema rejects or one past `maxStorageMB` is
   * refused with a clear error, and the database is left as it was. The store and any sync
   * engine are not touched: hydrate the store again (`persist()`) and create the engine again
   * afterwards, so that it loads the restored cursor and outbox.
   *
   * @example const fresh = new FrontendDatabase({ dbName: "idb://restored", schema }); await fresh.restore(blob);
   */
  async restore(backup: Blob): Promise<void> {
    this.#assertBackup("restore");
    const content = await readBackup(backup);
    const pg = await this.#ready();
    const version = await currentVersion(pg);
    if (content.schemaVersion > version) {
      throw new KalphiteUsageError(
        `The backup is at schema version ${content.schemaVersion}, newer than this database (${version}); nothing was restored. Open it with the migrations up to ${content.schemaVersion}.`,
      );
    }
    // Rows of an older schema are checked by the migrations; rows of this one are checked now.
    const sameSchema = content.schemaVersion === version;
    const rows = content.entities.map((row) => ({
      t: row.type,
      i: row.id,
      e: sameSchema ? this.#checkRow(row.entity, row.type, row.id, "throw") : row.entity,
    }));
    let sql = "";
    try {
      this.#bytes = await durableTransaction(pg, async (tx) => {
        await tx.exec(
          `delete from ${ENTITIES}; delete from ${META}; delete from ${MIGRATIONS}; delete from ${SYNC_VERSIONS}; delete from ${SYNC_OUTBOX}; delete from ${SYNC_ROOMS};`,
        );
        sql = UPSERT_MANY;
        let bytes = (await tx.query<{ bytes: number }>(sql, [JSON.stringify(rows)])).rows[0]!.bytes;
        for (let v = 1; v <= content.schemaVersion; v++) {
          await tx.query(`insert into ${MIGRATIONS} (version, applied_at) values ($1, $2)`, [
            v,
            Date.now(),
          ]);
        }
        await writeVersion(tx, content.schemaVersion);
        sql = "";
        if (content.sync) await writeSyncTables(tx, content.sync);
        for (const [key, value] of Object.entries(content.meta)) {
          sql = `insert into ${META} (key, value, size) values ($1, $2::jsonb, octet_length($2::jsonb::text)) returning size`;
          bytes += (await tx.query<{ size: number }>(sql, [key, JSON.stringify(value)])).rows[0]!
            .size;
        }
        if (bytes > this.#config.maxStorageMB * MB) throw this.#limitError(bytes);
        return bytes;
      });
    } catch (error) {
      throw queryError(
        "Restoring the backup (the database was left as it was)",
        error,
        sql || undefined,
      );
    }
    if (this.#config.enableMigrations && !sameSchema) await this.migrateTo(version);
  }

  /**
   * Closes PGlite; the data directory (or IndexedDB) keeps everything committed. Then releases
   * the tab lock of an `idb://` database, so another tab can open it (a `lock: "wait"` still
   * waiting stops). Idempotent.
   *
   * @example await db.close();
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#lockWait.abort();
    const opening = this.#opening;
    if (opening) await opening.catch(() => {});
    try {
      await this.#pg?.close();
    } finally {
      this.#pg = undefined;
      // After PGlite wrote its files out: the next tab must read them, not older ones.
      this.#lock?.release();
      this.#lock = undefined;
    }
  }

  /** Validates stored rows into `into`, skipping (and reporting) those the schema rejects. */
  #checkRows({ types, ids, values }: StoredRows, into: E[]): void {
    for (let i = 0; i < values.length; i++) {
      const entity = this.#checkRow(values[i], types[i]!, ids[i]!);
      if (entity !== undefined) into.push(entity);
    }
  }

  /** Validates a stored row; reports it (or throws) when the schema no longer accepts it. */
  #checkRow(
    value: unknown,
    entityType: string,
    entityId: string,
    mode: "report" | "throw" = "report",
  ): E | undefined {
    try {
      // The value was just parsed from the row: nothing else holds it, so it is frozen in place.
      return validateEntity(this.#schema, value, entityType, entityId, true);
    } catch (error) {
      if (!(error instanceof KalphiteValidationError)) throw error;
      const invalid = new KalphiteValidationError(
        `The stored ${entityType} "${entityId}" no longer passes the schema (${error.message}). Add a Migration that fixes such rows, or pass onInvalidRow to FrontendDatabase to skip them; the row is kept in the database.`,
        { issues: error.issues, entityType, entityId },
      );
      if (mode === "throw" || this.#onInvalidRow === undefined) throw invalid;
      this.#onInvalidRow(invalid);
      return undefined;
    }
  }

  /** Whether `#bytes` is kept: only a finite `maxStorageMB` needs the running total. */
  get #limited(): boolean {
    return Number.isFinite(this.#config.maxStorageMB);
  }

  /** Counts the bytes stored from scratch (on open and after migrating). */
  async #countBytes(pg: PGlite): Promise<void> {
    if (this.#limited) {
      this.#bytes = (await pg.query<{ bytes: number }>(TOTAL_BYTES)).rows[0]?.bytes ?? 0;
    }
  }

  /**
   * The bytes stored once a write in progress replaced `before` bytes with `written`. Past the
   * limit it throws, which rolls the write's transaction back; only growth is refused, so
   * shrinking data over the limit stays possible.
   */
  #bytesAfter(before: number, written: number): number {
    const after = this.#bytes - before + written;
    if (written > before && after > this.#config.maxStorageMB * MB) throw this.#limitError(after);
    return after;
  }

  #limitError(bytes: number): KalphiteStorageLimitError {
    return new KalphiteStorageLimitError(
      // In bytes: rounded to MB, a write just over a small limit read as equal to it.
      `This write would store ${bytes.toLocaleString("en")} bytes, over maxStorageMB (${this.#config.maxStorageMB} MB = ${Math.floor(this.#config.maxStorageMB * MB).toLocaleString("en")} bytes); nothing was written. Delete entities or metadata, or raise maxStorageMB.`,
    );
  }

  #assertBackup(method: string): void {
    if (!this.#config.enableBackup) {
      throw new KalphiteUsageError(
        `${method}() is disabled: this database has enableBackup: false.`,
      );
    }
  }
}

function closedError(): KalphiteUsageError {
  return new KalphiteUsageError(
    "The database is closed: create a new FrontendDatabase to open it again.",
  );
}

/** The directory of a database kept on a file system (Node), or undefined for memory and IndexedDB. */
function directoryOf(dbName: string): string | undefined {
  if (dbName.startsWith("memory://") || dbName.startsWith("idb://")) return undefined;
  if (dbName.startsWith("file://")) return dbName.slice("file://".length);
  return dbName.includes("://") ? undefined : dbName;
}
