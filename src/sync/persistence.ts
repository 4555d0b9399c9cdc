import type { Entity } from "../core/index.js";
import {
  emptyFold,
  foldDelta,
  type SyncDeltaOf,
  type WrittenChangeOf,
} from "../internal/sync-delta.js";
import type { ServerLimits } from "../protocol/messages.js";
import type { ConflictStrategy, VectorClock } from "./types.js";

/** A local change waiting for the server's acknowledgement. */
export interface OutboxEntry extends WrittenChangeOf<VectorClock, ConflictStrategy> {}

/** The server's version of one entity, as this client last applied it. */
export interface ConfirmedVersion {
  entityType: string;
  entityId: string;
  entity: Entity | null;
  vector: VectorClock;
  seq: number;
}

/**
 * A confirmed version as a persistence gives it back. `entity` is `undefined` when the version
 * was recorded as `shown` and its entity is the one the store holds (its row in the database,
 * hydrated by `persist()` before the engine loads): it is not stored twice.
 */
export interface LoadedVersion extends Omit<ConfirmedVersion, "entity"> {
  entity: Entity | null | undefined;
  /** Recorded as `shown`: the store shows exactly its entity (whoever read it from the row). */
  shown?: boolean;
}

/**
 * The whole sync state, as the first release persisted it in one metadata value
 * (`kalphite.sync.<room>`). Still read once, to migrate a database written by that release.
 */
export interface SyncState {
  version: 1;
  /** The room the state belongs to; state of another room is ignored. */
  roomId: string;
  /** The last seq applied (every entry up to it has been applied). */
  cursor: number;
  confirmed: ConfirmedVersion[];
  outbox: OutboxEntry[];
}

/** What `SyncPersistence.load()` gives back: where the engine left off. */
export interface LoadedSyncState {
  /** The last seq applied. */
  cursor: number;
  versions: LoadedVersion[];
  /** Oldest first. */
  outbox: OutboxEntry[];
  /** The limits the server announced last, if it ever did. */
  limits?: ServerLimits;
}

/** One change of the sync state (see `SyncDeltaOf`): what a persistence writes, in order. */
export type SyncDelta = SyncDeltaOf<ConfirmedVersion, OutboxEntry, ServerLimits>;

/** The entity change (in the store, hence in the entity rows) a delta must be committed with. */
export interface DeltaEntity {
  entityType: string;
  entityId: string;
}

/**
 * Where a NetworkSyncEngine keeps its state between runs, written incrementally: each change
 * of the outbox, the cursor or an entity's confirmed version is `record`ed as a delta. A
 * FrontendDatabase (`db.syncState(roomId)`) commits a delta in the same transaction as the
 * entity change it names (a local write and its outbox row; a remote batch, its confirmed
 * versions and the cursor); `memoryPersistence()` keeps it in memory.
 */
export interface SyncPersistence {
  /** The state recorded by earlier runs, or `undefined` for none. */
  load(): Promise<LoadedSyncState | undefined>;
  /**
   * Records a delta, synchronously (it is written later, in order). With `entity`, the delta
   * belongs with that entity's change in the store: it is committed together with it, never
   * before it.
   */
  record(delta: SyncDelta, entity?: DeltaEntity): void;
  /** Resolves once every delta recorded so far is committed. */
  flush(): Promise<void>;
}

/** The state a `memoryPersistence()` holds, as plain values (for tests). */
export interface MemorySyncState {
  cursor: number;
  confirmed: ConfirmedVersion[];
  outbox: OutboxEntry[];
  limits?: ServerLimits;
}

/**
 * Persistence in memory: survives an engine being recreated in the same process (tests, or a
 * store that is not persisted). `state` shows what it holds.
 *
 * @example const persistence = memoryPersistence(); new NetworkSyncEngine({ ...config, persistence });
 */
export function memoryPersistence(): SyncPersistence & {
  readonly state: MemorySyncState | undefined;
} {
  let loaded = false;
  // The whole state, as the deltas fold into it.
  const state = emptyFold<ConfirmedVersion, OutboxEntry, ServerLimits>();
  const held = () => {
    const { versions, adds, cursor = 0, limits } = state;
    const confirmed: ConfirmedVersion[] = [];
    for (const v of versions.values()) if ("version" in v) confirmed.push({ ...v.version });
    return { cursor, confirmed, outbox: [...adds.values()], ...(limits ? { limits } : {}) };
  };
  return {
    get state() {
      return loaded ? held() : undefined;
    },
    async load() {
      if (!loaded) return undefined;
      // Entities are frozen values: sharing them is a faithful copy.
      const { confirmed, ...rest } = held();
      return { ...rest, versions: confirmed };
    },
    record(delta) {
      loaded = true;
      // A copy of the version, as recorded (the engine's may change later).
      foldDelta(
        state,
        delta.kind === "version" ? { ...delta, version: { ...delta.version } } : delta,
        true,
      );
    },
    async flush() {},
  };
}

/** A source of per-room sync persistence: a FrontendDatabase (`kalphite/database`). */
export interface SyncStateSource {
  syncState(roomId: string): SyncPersistence;
}

/**
 * Persistence in a FrontendDatabase's sync tables (one row per confirmed version and per outbox
 * entry, the cursor in one value), for one room. Same as `database.syncState(roomId)`.
 *
 * @example new NetworkSyncEngine({ ...config, persistence: databasePersistence(db, "room-1") });
 */
export function databasePersistence(database: SyncStateSource, roomId: string): SyncPersistence {
  return database.syncState(roomId);
}
