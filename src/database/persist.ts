import { entityKey } from "../core/entity-key.js";
import type { ChangeInput, Entity, StoreApi } from "../core/index.js";
import { type FlushEngineOptions, MemoryFlushEngine } from "../flush/index.js";
import type { FrontendDatabase } from "./frontend-database.js";
import { linkPersistence } from "./sync-state.js";
import type { LoadProgress } from "./types.js";

/** Options of `persist()`: the flush engine's (without its target) plus hydration's. */
export interface PersistOptions extends Omit<FlushEngineOptions, "flushTarget"> {
  /** Called after each page of entities read while hydrating. */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Rows read per query while hydrating.
   * @default 10000
   */
  pageSize?: number;
}

/** A store connected to a database, from `persist()`. */
export interface Persistence {
  /** The engine writing the store's changes to the database. */
  readonly engine: MemoryFlushEngine;
  /** The database. */
  readonly db: FrontendDatabase<any>;
  /** How many entities hydration loaded into the store. */
  readonly hydrated: number;
  /**
   * Resolves once every change made so far is committed: the durability point.
   * @example store.comment.upsert("c1", c); await persistence.flush();
   */
  flush(): Promise<void>;
  /**
   * Stops persisting: detaches from the store and writes what is queued. Does not close the
   * database. A failed final write is reported (`onError`) and rejects the returned promise,
   * which may be left unawaited without an unhandled rejection.
   * @example await persistence.stop(); await db.close();
   */
  stop(): Promise<void>;
}

/**
 * Connects a store to a database: loads every stored entity into the store (origin `hydrate`,
 * never written back), then writes every later `local` and `remote` change through a
 * `MemoryFlushEngine` whose target is the database (one transaction per batch).
 *
 * Entities already in the store before the call win over the database's copy and are written to
 * it; so do writes made while hydration runs.
 *
 * @example
 * const store = KalphiteStore(Entity);
 * const db = new FrontendDatabase({ dbName: "idb://code-review", schema: Entity });
 * const persistence = await persist(store, db, { onProgress: ({ loaded, total }) => log(loaded, total) });
 * store.comment.upsert("c1", comment);
 * await persistence.flush(); // c1 is committed
 */
export async function persist<E extends Entity>(
  store: StoreApi<E>,
  db: FrontendDatabase<any>,
  options: PersistOptions = {},
): Promise<Persistence> {
  const { onProgress, pageSize, ...engineOptions } = options;
  await db.init();
  const engine = new MemoryFlushEngine({
    // A batch of remote changes, with its sync state, is one transaction up to this size.
    maxBatchSize: 10_000,
    ...engineOptions,
    flushTarget: (changes) => db.applyChanges(changes),
  });
  // A sync engine on this database leaves confirmed entities to their rows, and waits for them.
  let hydrationDone!: () => void;
  const unlink = linkPersistence(db, {
    hydrated: new Promise<void>((resolve) => {
      hydrationDone = resolve;
    }),
    flush: () => engine.flush(),
  });
  const before = store.entities();
  // Listen before reading, so that nothing written during hydration is missed.
  const detach = engine.attach(store);
  let hydrated = 0;
  try {
    const rows = await db.entities({
      ...(onProgress ? { onProgress } : {}),
      ...(pageSize ? { pageSize } : {}),
    });
    const newer = new Set(before.map((entity) => entityKey(entity.type, entity.id)));
    for (const change of engine.getQueuedChanges())
      newer.add(entityKey(change.entityType, change.entityId));
    const changes: ChangeInput[] = [];
    for (const entity of rows) {
      // Usually nothing is newer: then no key is built for each of the (many) rows.
      if (newer.size > 0 && newer.has(entityKey(entity.type, entity.id))) continue;
      changes.push({ operation: "upsert", entityType: entity.type, entityId: entity.id, entity });
    }
    hydrated = store.apply(changes, "hydrate").length;
    // What the store held before persist() never went through the change stream: queue it.
    for (const entity of before) {
      if (store.collection(entity.type).findById(entity.id) === entity) {
        engine.scheduleFlush(entity.id, entity);
      }
    }
  } catch (error) {
    detach();
    unlink();
    hydrationDone();
    await engine.destroy().catch(() => {});
    throw error;
  }
  hydrationDone();
  return {
    engine,
    db,
    hydrated,
    // The engine's own promises: they reject for a caller that awaits, report through onError,
    // and leave no unhandled rejection for one that does not.
    flush: () => engine.flush(),
    stop: () => {
      detach();
      const done = engine.destroy();
      // Unlinked once the final flush (which carries the sync deltas) has settled, either way.
      done.then(unlink, unlink);
      return done;
    },
  };
}
