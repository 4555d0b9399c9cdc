import { entityKey } from "../../core/entity-key.js";
import type { ChangeInput, Entity } from "../../core/index.js";

/**
 * A copy of a leader's store that a tab can show at once when it starts, before any leader is
 * up (opening the database takes the leader seconds). The leader keeps it up to date with its
 * store (see `TabLeaderOptions.cache`); a follower shows it until the leader's snapshot arrives
 * (see `TabMirrorOptions.cache`). It is a preview only: what the leader's database holds
 * replaces it as soon as the leader answers, and nothing is ever written from it.
 */
export interface TabSnapshotCache {
  /** Whether a leader wrote the cache at least once (false on a first visit). */
  written(): Promise<boolean>;
  /**
   * The entities last written, `pageSize` at a time: each page is read (and deserialized) in a
   * task of its own, so that a large room does not make one long task of the page's start.
   */
  pages(pageSize?: number): AsyncIterable<Entity[]>;
  /** Makes the cache hold exactly `entities`. */
  replace(entities: readonly Entity[]): Promise<void>;
  /** Applies `changes` (in order) to the cache. */
  write(changes: readonly ChangeInput[]): Promise<void>;
  close(): void;
}

const ENTITIES = "entities";
const META = "meta";
/** The key of the meta record saying that a leader wrote the cache at least once. */
const WRITTEN = "written";

/**
 * The snapshot cache of database `name` in this origin's IndexedDB (database
 * `kalphite-tabs-cache:<name>`, one record per entity: a change writes only what it touched).
 * Where IndexedDB does not exist, a cache that holds nothing.
 *
 * @example
 * const cache = indexedDbSnapshotCache("idb://review");
 * serveTabs({ store, name: "idb://review", durable, cache }); // the leader keeps it
 * mirrorTabs({ store, name: "idb://review", cache }); // a tab shows it while the leader opens
 */
export function indexedDbSnapshotCache(name: string): TabSnapshotCache {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (idb === undefined) return emptyCache();
  let opened: Promise<IDBDatabase> | undefined;
  const database = () => {
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = idb.open(`kalphite-tabs-cache:${name}`, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(ENTITIES);
        request.result.createObjectStore(META);
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return opened;
  };
  const transact = async (
    mode: IDBTransactionMode,
    work: (entities: IDBObjectStore, meta: IDBObjectStore) => void,
  ): Promise<void> => {
    const db = await database();
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction([ENTITIES, META], mode);
      work(tx.objectStore(ENTITIES), tx.objectStore(META));
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  };
  return {
    async written() {
      let marker: unknown;
      await transact("readonly", (_, meta) => {
        const request = meta.get(WRITTEN);
        request.onsuccess = () => {
          marker = request.result;
        };
      });
      return marker !== undefined;
    },
    async *pages(pageSize = 1000) {
      let after: IDBValidKey | undefined;
      for (;;) {
        let page: Entity[] = [];
        let keys: IDBValidKey[] = [];
        const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
        await transact("readonly", (store) => {
          const values = store.getAll(range, pageSize);
          values.onsuccess = () => {
            page = values.result as Entity[];
          };
          const keyList = store.getAllKeys(range, pageSize);
          keyList.onsuccess = () => {
            keys = keyList.result;
          };
        });
        if (page.length > 0) yield page;
        if (keys.length < pageSize) return;
        after = keys[keys.length - 1];
      }
    },
    replace(entities) {
      return transact("readwrite", (store, meta) => {
        store.clear();
        for (const entity of entities) store.put(entity, entityKey(entity.type, entity.id));
        meta.put(Date.now(), WRITTEN);
      });
    },
    write(changes) {
      return transact("readwrite", (store) => {
        for (const change of changes) {
          const key = entityKey(change.entityType, change.entityId);
          if (change.operation === "delete") store.delete(key);
          else store.put(change.entity, key);
        }
      });
    },
    close() {
      void opened?.then((db) => db.close()).catch(() => {});
    },
  };
}

function emptyCache(): TabSnapshotCache {
  return {
    written: () => Promise.resolve(false),
    async *pages() {},
    replace: () => Promise.resolve(),
    write: () => Promise.resolve(),
    close() {},
  };
}
