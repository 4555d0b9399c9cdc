// One room of a hub: its connections, the group commit of their changes, and the broadcast of
// every committed entry, in order, once.
import type { Entity } from "../../core/index.js";
import {
  type CatchUpMessage,
  changeFromEntry,
  type LogEntry,
  newMessageId,
} from "../../protocol/messages.js";
import { decideChange, type IncomingChange } from "../conflict.js";
import { CATCH_UP_LIMIT, type CommitOutcome, type SyncStorage } from "../storage/storage.js";
import { type Connection, SharedFrame } from "./connection.js";
import { FRAME_OVERHEAD, pagesOf } from "./pages.js";
import { serverError } from "./server-error.js";

/** What a room needs from its hub. */
export interface RoomContext {
  storage: SyncStorage;
  validate: (entity: unknown, entityType: string, entityId: string) => Entity;
  now: () => number;
  /** Changes committed in one storage transaction at most. */
  maxBatch: number;
  /** Bytes of changes (as received) committed in one transaction at most (one change at least). */
  maxBatchBytes: number;
  /** The largest frame a broadcast of several entries is split at. */
  maxFrameBytes: number;
  /** The latest time a change may be ordered at (the server's clock plus the allowed skew). */
  latestTime: () => number;
  closing: () => boolean;
  report: (error: unknown) => void;
}

interface Queued {
  change: IncomingChange;
  connection: Connection;
  bytes: number;
}

/** A room: group commit, pump and broadcast. */
export class Room {
  readonly id: string;
  readonly connections = new Set<Connection>();
  /** Resolves once the room's head is known. */
  readonly ready: Promise<void>;
  /** The last seq sent to this process's connections. */
  broadcastSeq = 0;
  readonly #context: RoomContext;
  #queue: Queued[] = [];
  #committing = false;
  /** The highest head the storage announced (commits by any process sharing it). */
  #heard = 0;
  #pumping: Promise<void>;
  /** Who sent each locally committed entry not yet broadcast: they get an ack instead. */
  readonly #origin = new Map<string, Connection>();

  constructor(id: string, context: RoomContext) {
    this.id = id;
    this.#context = context;
    this.ready = context.storage.head(id).then((head) => {
      this.broadcastSeq = Math.max(this.broadcastSeq, head);
    });
    // Broadcasts wait for the head: an announcement before it would otherwise read the room's
    // whole history for nobody (no connection joins before the head is known).
    this.#pumping = this.ready.catch(() => {});
  }

  /** Queues a change (received as `bytes` of text) for the next group commit. */
  enqueue(change: IncomingChange, connection: Connection, bytes: number): void {
    this.#queue.push({ change, connection, bytes });
    void this.#commit();
  }

  /** The next batch: at most `maxBatch` changes and `maxBatchBytes` (at least one change). */
  #nextBatch(): Queued[] {
    let count = 0;
    let bytes = 0;
    const { maxBatch, maxBatchBytes } = this.#context;
    for (const item of this.#queue) {
      if (count > 0 && (count >= maxBatch || bytes + item.bytes > maxBatchBytes)) break;
      count++;
      bytes += item.bytes;
    }
    return this.#queue.splice(0, count);
  }

  /**
   * The storage announced a commit of this room at `head`, by this process (`byThisProcess`) or
   * another. Another process's entries are read and broadcast now, while this process's next
   * commit runs: waiting for it would add a whole commit to their delivery.
   */
  heard(head: number, byThisProcess: boolean, entries: readonly LogEntry[] = []): void {
    this.#heard = Math.max(this.#heard, head);
    // This process's own commit: the commit loop broadcasts its entries from the commit's
    // result, so reading the log here would only read them a second time.
    if (byThisProcess && this.#committing) return;
    void this.#pump(entries, head);
  }

  /** Resolves when the broadcasts in progress are done. */
  idle(): Promise<void> {
    return this.#pumping;
  }

  /**
   * Group commit: one transaction at a time per room; changes that arrive meanwhile queue for
   * the next. Before each transaction the event loop gets one turn (`setImmediate`), so every
   * socket with data is read first and its changes join the batch: a storage whose commit never
   * yields to the event loop (PGlite) would otherwise commit one socket read at a time.
   */
  async #commit(): Promise<void> {
    if (this.#committing) return;
    this.#committing = true;
    // The previous batch's broadcast: it may read the log (another process's entries came
    // first), and the next commit need not wait for that read, only queue its own after it.
    let broadcasting: Promise<void> = Promise.resolve();
    try {
      await this.ready;
      while (this.#queue.length > 0 && !this.#context.closing()) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.#nextBatch();
        const outcomes = await this.#store(batch);
        const fresh: LogEntry[] = [];
        outcomes.forEach((outcome, i) => {
          const connection = batch[i]?.connection;
          if (connection && this.#answer(connection, outcome)) {
            const entry = outcome.entry as LogEntry;
            // Unless another process's announcement already had it read and broadcast.
            if (entry.seq > this.broadcastSeq) this.#origin.set(entry.messageId, connection);
            fresh.push(entry);
          }
        });
        // Up to this batch's last entry, and to whatever other processes committed meanwhile.
        // At most one broadcast of this loop waits at a time: a slow one holds the next commit.
        await broadcasting;
        broadcasting = this.#pump(fresh, Math.max(this.#heard, fresh.at(-1)?.seq ?? 0));
      }
      await broadcasting;
    } finally {
      this.#committing = false;
    }
    // An announcement heard during the last broadcast was not pumped by the loop.
    if (this.#heard > this.broadcastSeq) void this.#pump([], this.#heard);
    if (this.#queue.length > 0 && !this.#context.closing()) void this.#commit();
  }

  async #store(batch: Queued[]): Promise<CommitOutcome[]> {
    const { storage, validate, latestTime, now } = this.#context;
    try {
      const latest = latestTime();
      return await storage.commit(
        this.id,
        batch.map((item) => item.change),
        (change, current) =>
          decideChange(current, change, (e) => validate(e, change.entityType, change.entityId), {
            latestTime: latest,
          }),
        { now: now() },
      );
    } catch (error) {
      this.#context.report(
        serverError(error, "storage", `Storing ${batch.length} changes in room "${this.id}"`),
      );
      // Not stored: the clients keep the changes in their outboxes and resend them.
      for (const { change, connection } of batch)
        connection.error(
          "storage-failed",
          "The server could not store the change; it will be resent.",
          { rejectedId: change.messageId },
        );
      return [];
    }
  }

  /** Answers the writer of one change; true when it appended a new entry to broadcast. */
  #answer(connection: Connection, outcome: CommitOutcome): boolean {
    if (outcome.rejected) {
      connection.error(outcome.rejected.code, outcome.rejected.message, {
        rejectedId: outcome.messageId,
        permanent: true,
      });
      return false;
    }
    const entry = outcome.entry;
    if (!entry) return false;
    connection.send({
      type: entry.conflict ? "conflict" : "ack",
      payload: { ackedId: outcome.messageId, entry },
      timestamp: this.#context.now(),
      userId: "",
      messageId: newMessageId(),
    });
    return !outcome.duplicate;
  }

  /**
   * Broadcasts every entry up to `target` not yet broadcast, in order, once. Serialized per room.
   * `known` are entries this process just committed (consecutive seqs, in order): they are sent
   * as they are; the log is read only for entries this process has not seen (other processes'
   * commits), and not at all once `target` is reached.
   */
  #pump(known: readonly LogEntry[], target: number): Promise<void> {
    this.#pumping = this.#pumping.then(async () => {
      try {
        while (this.broadcastSeq < target) {
          let entries = known.filter((entry) => entry.seq > this.broadcastSeq);
          if (entries[0]?.seq !== this.broadcastSeq + 1)
            entries = await this.#context.storage.entriesAfter(
              this.id,
              this.broadcastSeq,
              CATCH_UP_LIMIT,
            );
          // Nothing readable after broadcastSeq (a storage that lost entries): stop, not spin.
          if (entries.length === 0) break;
          this.#broadcast(entries);
        }
      } catch (error) {
        this.#context.report(
          serverError(error, "storage", `Reading room "${this.id}"'s log to broadcast it`),
        );
      }
    });
    return this.#pumping;
  }

  /** Sends entries (seq > broadcastSeq, consecutive) to the room and advances broadcastSeq. */
  #broadcast(entries: LogEntry[]): void {
    const last = entries.at(-1);
    if (!last) return;
    if (entries.length === 1) {
      // One entry: a change to everyone but its writer, who got the ack.
      const origin = this.#origin.get(last.messageId);
      const frame = new SharedFrame(JSON.stringify(changeFromEntry(last)));
      for (const connection of this.connections)
        if (connection !== origin) connection.sendText(frame);
    } else {
      // Several (a group commit under load): one frame per page of entries, serialized once
      // for all. Writers also get their own entries back; they ignore seqs they already applied.
      for (const page of pagesOf(entries, this.#context.maxFrameBytes - FRAME_OVERHEAD)) {
        const head = page.items.at(-1)?.seq ?? last.seq;
        const frame = new SharedFrame(catchUpFrame(head, page.json, this.#context.now()));
        for (const connection of this.connections) connection.sendText(frame);
      }
    }
    for (const entry of entries) this.#origin.delete(entry.messageId);
    this.broadcastSeq = last.seq;
  }
}

/**
 * A catch-up frame around an already serialized list of entries: the same text as
 * `JSON.stringify` of the message, without serializing the entries a second time.
 */
export function catchUpFrame(head: number, entriesJson: string, timestamp: number): string {
  const frame: CatchUpMessage = {
    type: "catch-up",
    payload: { head, entries: [] },
    timestamp,
    userId: "",
    messageId: newMessageId(),
  };
  return JSON.stringify(frame).replace('"entries":[]', `"entries":${entriesJson}`);
}
