import type { LogEntry, SnapshotEntity } from "../../protocol/messages.js";
import type { CurrentVersion, Decision, IncomingChange } from "../conflict.js";

/** What happened to one change handed to `SyncStorage.commit`. */
export interface CommitOutcome {
  messageId: string;
  /** The stored entry (for a duplicate: the entry stored the first time). */
  entry?: LogEntry;
  /** True when the message id was already stored: nothing new was written. */
  duplicate?: boolean;
  /** Set when `decide` refused the change: nothing was written. */
  rejected?: { code: "forged-vector" | "invalid-entity"; message: string };
}

/** Options of `SyncStorage.commit`. */
export interface CommitOptions {
  /**
   * The server's clock (ms since the epoch) when the batch is stored.
   * @default Date.now()
   */
  now?: number;
}

/** Decides one change against the current version (the server passes `decideChange`). */
export type Decide = (change: IncomingChange, current: CurrentVersion | undefined) => Decision;

/**
 * Where a sync server keeps each room's ordered log and latest entity versions. Implementations:
 * `memoryStorage` (tests), `pgliteStorage` (embedded, the default) and `postgresStorage`
 * (scale-out). One contract suite (test/server/storage.test.ts) runs against each.
 */
export interface SyncStorage {
  /**
   * Atomically, under the room's lock: skips message ids already stored, decides each new change
   * in order against the latest version (including earlier changes of the same batch), appends
   * the accepted ones with the next seqs, and updates the versions. Durable when it resolves.
   * Storages share these rules through `commitBatch` (commit-batch.ts). `options.now` is the
   * server's clock: each new entry is recorded as stored then, and compaction measures the
   * tombstones' and compacted ids' time from it (never from the writer's clock, which may be
   * behind).
   */
  commit(
    roomId: string,
    changes: readonly IncomingChange[],
    decide: Decide,
    options?: CommitOptions,
  ): Promise<CommitOutcome[]>;
  /** The entries with seq > `after`, in order, at most `limit`. */
  entriesAfter(roomId: string, after: number, limit?: number): Promise<LogEntry[]>;
  /** The latest version of every entity (tombstones included) and the head they are current at. */
  snapshot(roomId: string): Promise<{ head: number; versions: SnapshotEntity[] }>;
  /**
   * At most `limit` latest versions (tombstones included), in the storage's order of
   * (entityType, entityId), starting after `after`: a join reads the room page by page, never
   * the whole room at once.
   */
  snapshotPage(
    roomId: string,
    options: { after?: [entityType: string, entityId: string] | undefined; limit: number },
  ): Promise<SnapshotEntity[]>;
  /**
   * How many entities (tombstones included) the room holds; with `atMost`, counting stops there
   * (the work is bounded by it, however large the room).
   */
  entityCount(roomId: string, atMost?: number): Promise<number>;
  /**
   * The lowest cursor the log still covers: entries after it are all there. 0 until the room is
   * compacted; a client whose cursor is below it catches up by snapshot.
   */
  horizon(roomId: string): Promise<number>;
  /**
   * Compacts the room's log up to seq `horizon` (at most the head): drops every entry superseded
   * by a later entry of the same entity (keeping its message id, so a resend stays a resend),
   * and forgets tombstones (entity and entry) and kept message ids stored before
   * `tombstonesBefore` (ms since the epoch, on the server's clock: see `CommitOptions.now`).
   * Entries after `horizon` stay, so cursors at or above it still catch up from the log.
   */
  compact(
    roomId: string,
    options: { horizon: number; tombstonesBefore: number },
  ): Promise<{ removed: number }>;
  /** The seq of the room's last entry (0 when empty). */
  head(roomId: string): Promise<number>;
  /**
   * Calls `listener` with the room's new head after each commit that appended entries, by any
   * process sharing the storage, and whether this process made it (its hub broadcasts those
   * from the commit's result; another process's entries it reads from the log). A batch of only
   * duplicates or refusals is not announced. When unsure (a head re-announced after a
   * reconnect), `byThisProcess` is false. `entries`, when given, are the commit's entries (up to
   * `head`, consecutive), so another process's commit is broadcast without reading the log.
   */
  onCommit(
    listener: (
      roomId: string,
      head: number,
      byThisProcess: boolean,
      entries?: readonly LogEntry[],
    ) => void,
  ): () => void;
  close(): Promise<void>;
}

/** The default page size of catch-ups. */
export const CATCH_UP_LIMIT = 5_000;
