import type { PGlite, Transaction } from "@electric-sql/pglite";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import {
  compareKeys,
  type Entity,
  type EntityId,
  KalphiteUsageError,
  KalphiteValidationError,
} from "../core/index.js";
import { validateEntity } from "../core/schema.js";
import type { FlushChange } from "../flush/index.js";
import { readBackup, readBackupContent, writeBackupContent } from "./backup-format.js";
import { durableTransaction } from "./durable-transaction.js";
import { checkMetaKey, metaJson, readMeta, removeMeta, writeMeta } from "./metadata.js";
import { currentVersion, migrate, sortMigrations } from "./migrations.js";
import { closedError, openDatabase } from "./open-database.js";
import { ENTITIES, queryError } from "./sql.js";
import { StorageBudget } from "./storage-budget.js";
import {
  aggregateRows,
  parseRows,
  readAllRows,
  rowWrites,
  type StoredRows,
  writeInOneStatement,
  writeRows,
} from "./stored-rows.js";
import { SyncStateTable } from "./sync-state.js";
import type { TabLock, TabLockMode } from "./tab-lock.js";
import type {
  FrontendDatabaseOptions,
  LoadOptions,
  Migration,
  QueryFilter,
  QueryOrderBy,
} from "./types.js";

/**
 * Entities on PGlite: one table keyed by (type, id) holding each entity as `json`, a metadata
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
    Pick<FrontendDatabaseOptions, "dbName" | "enableMigrations" | "enableBackup">
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
  /** `maxStorageMB`: the bytes stored, counted while a limit is set. */
  readonly #budget: StorageBudget;
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
    this.#budget = new StorageBudget(options.maxStorageMB);
    this.#config = {
      dbName: options.dbName,
      enableMigrations: options.enableMigrations ?? true,
      enableBackup: options.enableBackup ?? true,
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
    const opened = await openDatabase({
      dbName: this.#config.dbName,
      lockMode: this.#lockMode,
      signal: this.#lockWait.signal,
      migrations: this.#config.enableMigrations ? this.#migrations : undefined,
      closed: () => this.#closed,
      budget: this.#budget,
    });
    this.#pg = opened.pg;
    this.#lock = opened.lock;
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
    await this.#budget.count(pg);
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
      for (const row of result.rows) this.#budget.bytes -= row.size;
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
    const { latest, rows } = rowWrites(changes, (change) =>
      validateEntity(this.#schema, change.entity, change.entityType, change.entityId),
    );
    // Now, before any await: the sync deltas recorded with these entity changes may go with them.
    const marked = [...this.#syncStates.values()].map((s) => [s, s.mark(latest)] as const);
    await this.#serialize(async () => {
      const through = new Map(marked); // take() takes all up to the last delta this batch marked
      const taken = [...this.#syncStates.values()].map((s) => [s, s.take(through.get(s))] as const);
      const withSync = taken.filter(([, deltas]) => deltas.length > 0);
      if (rows.upserts.length === 0 && rows.deletes.length === 0 && withSync.length === 0) return;
      try {
        const pg = await this.#ready();
        const [only] = withSync;
        const limited = this.#budget.limited;
        const one =
          only && withSync.length === 1 && !limited ? only[0].statements(only[1], 2) : undefined;
        if (one && !one.reset) {
          await writeInOneStatement(pg, rows, only![0].room, one.statements);
        } else {
          const withState =
            withSync.length === 0
              ? undefined
              : async (tx: Transaction) => {
                  let grown = 0;
                  for (const [state, deltas] of withSync)
                    grown += await state.write(tx, deltas, limited);
                  return grown;
                };
          const change = await writeRows(pg, this.#budget, rows, withState);
          this.#budget.bytes += change;
        }
      } catch (error) {
        for (const [state, deltas] of withSync) state.putBack(deltas);
        for (const [state, deltas] of marked) state.unmark(deltas);
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
        {
          ready: () => this.#ready(),
          serialize: (fn) => this.#serialize(fn),
          budget: this.#budget,
        },
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
    const entities: E[] = [];
    await readAllRows(pg, options, (rows) => this.#checkRows(rows, entities));
    return entities;
  }

  /**
   * A metadata value (sync cursor, outbox, ...), or `undefined`.
   *
   * @example const cursor = await db.getMeta<number>("sync:cursor");
   */
  async getMeta<T>(key: string): Promise<T | undefined> {
    return readMeta<T>(await this.#ready(), key);
  }

  /**
   * Stores a JSON-serializable metadata value under `key` (replacing the old one), durably.
   *
   * @example await db.setMeta("sync:outbox", pendingMessages);
   */
  async setMeta(key: string, value: unknown): Promise<void> {
    const json = metaJson(key, value);
    await writeMeta(await this.#ready(), this.#budget, key, json);
  }

  /**
   * Removes a metadata key; true if it existed.
   *
   * @example await db.deleteMeta("sync:outbox");
   */
  async deleteMeta(key: string): Promise<boolean> {
    checkMetaKey(key, "delete");
    return removeMeta(await this.#ready(), this.#budget, key);
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
      const content = await durableTransaction(pg, readBackupContent);
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
      const bytes = await durableTransaction(pg, async (tx) => {
        await writeBackupContent(tx, content, rows, (step) => {
          sql = step;
        });
        // Everything it stores counts, the sync tables too (under a limit, or not: it is rare).
        const stored = await this.#budget.measure(tx);
        this.#budget.check(stored);
        return stored;
      });
      if (this.#budget.limited) this.#budget.bytes = bytes;
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

  #assertBackup(method: string): void {
    if (!this.#config.enableBackup) {
      throw new KalphiteUsageError(
        `${method}() is disabled: this database has enableBackup: false.`,
      );
    }
  }
}
