import type { Entity, EntityId } from "../core/index.js";

/** Where and as whom a `NetworkSyncEngine` syncs (the seed's `SyncConfig`). */
export interface SyncConfig {
  /** The sync server's WebSocket URL: absolute, `ws://` or `wss://`, e.g. `ws://localhost:8787`. */
  wsUrl: string;
  /** The room to join: every client of a room sees the same entities. */
  roomId: string;
  /** Who this client is. The server checks it against `authToken`. */
  userId: string;
  /**
   * The credential the server's authenticator verifies (by default a token minted with
   * `signToken` from `kalphite/server`).
   * @default "" (accepted only by a server started with `--insecure`)
   */
  authToken?: string;
  /**
   * How many reconnects in a row to try before giving up and staying offline: a whole number
   * ≥ 0, or `Infinity` to never give up.
   * @default 10
   */
  reconnectAttempts?: number;
  /**
   * Milliseconds between heartbeats, at least 20 (values under a second are for tests on
   * loopback). A connection that hears nothing, or is not welcomed, for two intervals is
   * treated as dead and reconnected.
   * @default 15000
   */
  heartbeatInterval?: number;
}

/** The envelope of every protocol message (the seed's `SyncMessage`). */
export interface SyncMessage {
  type: "change" | "ack" | "conflict" | "heartbeat";
  payload: any;
  /** Milliseconds since the epoch, on the sender's clock. */
  timestamp: number;
  /** The user the message is from (the server overrides what a client claims). */
  userId: string;
  /** Unique per message; a resent change keeps its id, so the server applies it once. */
  messageId: string;
}

/** One entity change on the wire (the seed's `ChangeMessage`). */
export interface ChangeMessage extends SyncMessage {
  type: "change";
  payload: {
    operation: "upsert" | "delete";
    entityType: string;
    entityId: EntityId;
    entity?: Entity;
    /**
     * From a client: the version of the entity the change was made on (what it had seen).
     * From the server: the version the change produced.
     */
    vector: VectorClock;
    /** Set by the server: the change's position in the room's order. */
    seq?: number;
    /** The strategy the writer wants for a concurrent edit. @default the client's config */
    strategy?: ConflictStrategy;
    /** For `operational-transform`: the `data` fields this change edited. @default all fields */
    changedFields?: string[];
  };
}

/** A version vector: per user, how many of their changes an entity version includes. */
export type VectorClock = Record<string, number>;

/** The names of the conflict strategies. */
export type ConflictStrategy = "last-write-wins" | "operational-transform" | "manual";

/** How concurrent edits of one entity are resolved (the seed's `ConflictResolution`). */
export interface ConflictResolution {
  strategy: ConflictStrategy;
  /**
   * For `manual` (required there): given this client's rejected edit and the server's current
   * entity, returns the entity to write instead (sent as a new change). Returning `remote` keeps
   * the server's version and sends nothing.
   *
   * @example resolver: (local, remote) => ({ ...remote, data: { ...remote.data, body: local.data.body } })
   */
  resolver?: (local: Entity, remote: Entity) => Entity;
}
