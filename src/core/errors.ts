import type { StandardSchemaV1 } from "@standard-schema/spec";

/** The root of every error Kalphite throws or reports. */
export class KalphiteError extends Error {
  override name = "KalphiteError";
}

/**
 * A write was rejected: the schema failed it, the schema is async, or the entity's `type` or `id`
 * does not match where it was written. Nothing in the store changed.
 */
export class KalphiteValidationError extends KalphiteError {
  override name = "KalphiteValidationError";
  readonly issues: readonly StandardSchemaV1.Issue[];
  readonly entityType: string | undefined;
  readonly entityId: string | undefined;

  constructor(
    message: string,
    options: {
      issues?: readonly StandardSchemaV1.Issue[];
      entityType?: string | undefined;
      entityId?: string | undefined;
    } = {},
  ) {
    super(message);
    this.issues = options.issues ?? [];
    this.entityType = options.entityType;
    this.entityId = options.entityId;
  }
}

/**
 * A write refused at `upsert` because its change could never be sent to the sync server: its
 * message would be larger than the server's `maxMessageBytes`, or the entity nested deeper than
 * its `maxDepth` (the limits the server announced last, or the defaults before a first
 * connection). Nothing in the store changed.
 */
export class KalphiteLimitError extends KalphiteValidationError {
  override name = "KalphiteLimitError";
  /** Which limit: `"maxMessageBytes"` or `"maxDepth"`. */
  readonly limit: "maxMessageBytes" | "maxDepth";
  /** The entity's message size in bytes, or its depth. */
  readonly actual: number;
  /** The server's limit. */
  readonly max: number;
  constructor(
    message: string,
    options: {
      limit: "maxMessageBytes" | "maxDepth";
      actual: number;
      max: number;
      entityType?: string;
      entityId?: string;
    },
  ) {
    super(message, { entityType: options.entityType, entityId: options.entityId });
    this.limit = options.limit;
    this.actual = options.actual;
    this.max = options.max;
  }
}

/** An operation the store does not allow, such as mutating a collection snapshot in place. */
export class KalphiteUsageError extends KalphiteError {
  override name = "KalphiteUsageError";
}

/** Persistence failed: a database query, a flush target, a backup or a storage limit. */
export class KalphitePersistenceError extends KalphiteError {
  override name = "KalphitePersistenceError";
  /** The SQL that failed, when a query failed. */
  readonly query: string | undefined;
  constructor(message: string, options: { cause?: unknown; query?: string } = {}) {
    super(message, { cause: options.cause });
    this.query = options.query;
  }
}

/**
 * A browser database (`idb://`) that another tab has open, so it was not opened here: two PGlite
 * instances on one IndexedDB database would overwrite each other's writes.
 */
export class KalphiteDatabaseLockedError extends KalphitePersistenceError {
  override name = "KalphiteDatabaseLockedError";
  /** The database that is open elsewhere. */
  readonly dbName: string;
  constructor(message: string, dbName: string) {
    super(message);
    this.dbName = dbName;
  }
}

/** The storage limit (`maxStorageMB`) would be exceeded; nothing was written. */
export class KalphiteStorageLimitError extends KalphitePersistenceError {
  override name = "KalphiteStorageLimitError";
}

/**
 * The reasons a sync server gives in an `error` message (the wire's `SyncErrorCode`, in
 * `kalphite/protocol`).
 */
export type ServerErrorCode =
  | "malformed-json"
  | "invalid-message"
  | "unsupported-protocol"
  | "auth-failed"
  | "forbidden-room"
  | "forbidden-user"
  | "not-joined"
  | "already-joined"
  | "invalid-entity"
  | "forged-vector"
  | "rate-limited"
  | "message-too-large"
  | "entity-too-deep"
  | "storage-failed"
  | "server-closing";

/** The reasons a client (or a server starting up) gives itself; never sent. */
export type LocalSyncErrorCode =
  | "bad-url"
  | "disconnected"
  | "no-websocket"
  | "no-secret"
  | "persistence-failed"
  | "resolver-failed"
  | "send-failed"
  | "unreachable";

/** Every `code` a `KalphiteSyncError` may carry. */
export type KalphiteSyncErrorCode = ServerErrorCode | LocalSyncErrorCode;

/** The sync protocol failed: a malformed message, a rejected change, a closed connection. */
export class KalphiteSyncError extends KalphiteError {
  override name = "KalphiteSyncError";
  /** A machine-readable reason: the server's when it sent one, else the client's own. */
  readonly code: KalphiteSyncErrorCode | undefined;
  constructor(message: string, options: { cause?: unknown; code?: KalphiteSyncErrorCode } = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
  }
}

/** The server refused the credentials or the room. */
export class KalphiteAuthError extends KalphiteSyncError {
  override name = "KalphiteAuthError";
}

/** Formats Standard Schema issues as one readable line each. @internal */
export function formatIssues(issues: readonly StandardSchemaV1.Issue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path
        ?.map((segment) =>
          typeof segment === "object" ? String(segment.key) : String(segment as PropertyKey),
        )
        .join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}
