import type { Entity } from "../core/index.js";
import type { ConflictStrategy } from "../protocol/types.js";

export type {
  ChangeMessage,
  ConflictStrategy,
  SyncMessage,
  VectorClock,
} from "../protocol/types.js";

/** Where and as whom a `NetworkSyncEngine` syncs (the seed's `SyncConfig`). */
export interface SyncOptions {
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

/** The seed's name for `SyncOptions`. */
export type SyncConfig = SyncOptions;

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
