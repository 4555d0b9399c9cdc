import type { Entity } from "../core/index.js";
import type { ConflictStrategy, VectorClock } from "./types.js";

/** A local change waiting for the server's acknowledgement. */
export interface OutboxEntry {
  messageId: string;
  timestamp: number;
  operation: "upsert" | "delete";
  entityType: string;
  entityId: string;
  entity?: Entity;
  /** The version the change was made on (see ARCHITECTURE.md). */
  vector: VectorClock;
  strategy: ConflictStrategy;
  changedFields?: string[];
}

/** The server's version of one entity, as this client last applied it. */
export interface ConfirmedVersion {
  entityType: string;
  entityId: string;
  entity: Entity | null;
  vector: VectorClock;
  seq: number;
}

/** What a NetworkSyncEngine persists: its position, the server's versions, and the outbox. */
export interface SyncState {
  version: 1;
  /** The room the state belongs to; state of another room is ignored. */
  roomId: string;
  /** The last seq applied (every entry up to it has been applied). */
  cursor: number;
  confirmed: ConfirmedVersion[];
  outbox: OutboxEntry[];
}

/**
 * Where a NetworkSyncEngine keeps its state between runs. `save` is called after changes,
 * one call at a time, each with the whole state.
 */
export interface SyncPersistence {
  load(): Promise<SyncState | undefined>;
  save(state: SyncState): Promise<void>;
}

/**
 * Persistence in memory: survives an engine being recreated in the same process (tests).
 *
 * @example const persistence = memoryPersistence(); new NetworkSyncEngine({ ...config, persistence });
 */
export function memoryPersistence(): SyncPersistence & { state: SyncState | undefined } {
  const holder = {
    state: undefined as SyncState | undefined,
    async load() {
      return holder.state === undefined ? undefined : structuredClone(holder.state);
    },
    async save(state: SyncState) {
      holder.state = structuredClone(state);
    },
  };
  return holder;
}

/** The metadata methods of a FrontendDatabase (`kalphite/database`) that sync needs. */
export interface MetaStore {
  getMeta<T>(key: string): Promise<T | undefined>;
  setMeta(key: string, value: unknown): Promise<void>;
}

/**
 * Persistence in a FrontendDatabase's metadata table, under one key per room.
 *
 * @example new NetworkSyncEngine({ ...config, persistence: databasePersistence(db, "room-1") });
 */
export function databasePersistence(database: MetaStore, roomId: string): SyncPersistence {
  const key = `kalphite.sync.${roomId}`;
  return {
    load: () => database.getMeta<SyncState>(key),
    save: (state) => database.setMeta(key, state),
  };
}
