// What a NetworkSyncEngine tells its users: its events, its status, a refused change, a
// snapshot's progress; and which server error codes are passing and which end the connection.
import type { Entity, KalphiteSyncError } from "../core/index.js";
import type { SyncErrorCode } from "../protocol/messages.js";
import type { ConnectionStatus } from "./connection.js";
import type { RemoteChange, SyncConflict } from "./replica.js";

/** The events of a NetworkSyncEngine. */
export interface SyncEvents {
  status: [status: ConnectionStatus, previous: ConnectionStatus];
  change: [change: RemoteChange];
  ack: [messageId: string, seq: number];
  conflict: [conflict: SyncConflict];
  error: [error: KalphiteSyncError];
  /** Joined and caught up to `head`. */
  synced: [head: number];
  /**
   * The server refused messages as `rate-limited` (it is over its `rateLimit`): sending pauses
   * for `pauseMs`, then goes on at a halved pace and resends what was refused. Flow control,
   * not a failure: nothing is lost. Once per slow-down, however many messages were refused.
   */
  throttled: [pauseMs: number];
  /**
   * The number `getOfflineQueueSize()` reports changed; also sent once when the saved outbox has
   * loaded (see `whenLoaded()`), even if the number did not change, so a counter can show it.
   */
  queue: [size: number];
  /**
   * A snapshot arriving in pages: how many entities are in so far, of `total` when known. The
   * store shows none of them until `done`.
   */
  snapshot: [progress: SnapshotProgress];
  /**
   * The server refused a change for good (its schema, its size, a forged vector): it left the
   * outbox and the entity shows the server's version again (see `refused`).
   */
  refused: [refusal: RefusedChange];
}

/** What `status` says (see `NetworkSyncEngine.status`). */
export type SyncStatus = "synced" | "pending" | "connecting" | "offline" | "refused";

/** A local change the server refused for good. */
export interface RefusedChange {
  messageId: string;
  operation: "upsert" | "delete";
  entityType: string;
  entityId: string;
  /** What this client tried to write (absent for a delete). */
  entity?: Entity;
  /** The server's reason; `error.code` is machine-readable (e.g. `"invalid-entity"`). */
  error: KalphiteSyncError;
}

/** Progress of a snapshot arriving in pages (the `snapshot` event). */
export interface SnapshotProgress {
  loaded: number;
  total?: number;
  done: boolean;
}

/** Refusals of a change that a resend may overcome (when the server does not say `permanent`). */
export const RETRYABLE_CODES = new Set<SyncErrorCode>([
  "storage-failed",
  "server-closing",
  "not-joined",
  "rate-limited",
]);

export const FATAL_CODES = new Set<SyncErrorCode>([
  "auth-failed",
  "forbidden-room",
  "forbidden-user",
  "unsupported-protocol",
]);
