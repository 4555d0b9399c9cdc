// The heart of SyncStorage.commit, shared by every storage: which changes of a batch are resends,
// which are refused, and the log entries the others become. The storage reads what it holds
// under the room's lock, calls this, then writes `entries` and announces them.
import { entityKey } from "../../core/entity-key.js";
import type { LogEntry } from "../../protocol/messages.js";
import type { CurrentVersion, IncomingChange } from "../conflict.js";
import type { CommitOutcome, Decide } from "./storage.js";

/** What a storage holds for the changes of one batch, read under the room's lock. */
export interface StoredRoom {
  /** The seq of the room's last entry. */
  head: number;
  /** The entry stored for a message id, if it was committed before (a resend). */
  entry(messageId: string): LogEntry | undefined;
  /** The current version of an entity, if it has one. */
  version(entityType: string, entityId: string): CurrentVersion | undefined;
}

/** The result of a batch: one outcome per change, and the entries to append. */
export interface CommitBatch {
  outcomes: CommitOutcome[];
  /**
   * The new entries, in seq order (from `head + 1`, consecutive). The last one of each entity is
   * its new current version. Storages announce a commit (`onCommit`) only when this is not
   * empty: listeners learn of new entries, and a batch of only resends or refusals appended
   * none (on PostgreSQL each announcement is a NOTIFY that wakes every server process).
   */
  entries: LogEntry[];
}

/**
 * Decides a batch in order: a message id already stored, or earlier in the batch, is a
 * duplicate answered with its stored entry; every other change is decided against the latest
 * version (earlier changes of the batch included) and, if accepted, gets the next seq.
 *
 * @example const { outcomes, entries } = commitBatch(changes, stored, decide);
 */
export function commitBatch(
  changes: readonly IncomingChange[],
  stored: StoredRoom,
  decide: Decide,
): CommitBatch {
  const outcomes: CommitOutcome[] = [];
  const entries: LogEntry[] = [];
  // This batch's own entries, by message id and by entity: they shadow what is stored.
  const byMessageId = new Map<string, LogEntry>();
  const latest = new Map<string, LogEntry>();
  let head = stored.head;
  for (const change of changes) {
    const { messageId, entityType, entityId } = change;
    const duplicate = byMessageId.get(messageId) ?? stored.entry(messageId);
    if (duplicate) {
      outcomes.push({ messageId, entry: duplicate, duplicate: true });
      continue;
    }
    const key = entityKey(entityType, entityId);
    const previous = latest.get(key);
    const decision = decide(
      change,
      previous ? versionOf(previous) : stored.version(entityType, entityId),
    );
    if (!decision.accept) {
      outcomes.push({ messageId, rejected: { code: decision.code, message: decision.message } });
      continue;
    }
    const entry: LogEntry = {
      seq: ++head,
      messageId,
      userId: change.userId,
      timestamp: decision.time,
      operation: decision.entity ? "upsert" : "delete",
      entityType,
      entityId,
      vector: decision.vector,
    };
    if (decision.entity) entry.entity = decision.entity;
    if (decision.conflict) entry.conflict = decision.conflict;
    byMessageId.set(messageId, entry);
    latest.set(key, entry);
    entries.push(entry);
    outcomes.push({ messageId, entry });
  }
  return { outcomes, entries };
}

/**
 * The current version an entry leaves its entity at.
 *
 * @example const current = versionOf(entry);
 */
export function versionOf(entry: LogEntry): CurrentVersion {
  return {
    entity: entry.entity ?? null,
    vector: entry.vector,
    timestamp: entry.timestamp,
    userId: entry.userId,
    messageId: entry.messageId,
  };
}
