import type { CurrentVersion } from "../sync/conflict.js";
import { entityKey, type LogEntry, type SnapshotEntity } from "../sync/protocol.js";
import { CATCH_UP_LIMIT, type CommitOutcome, type SyncStorage } from "./storage.js";

interface Room {
  log: LogEntry[];
  byMessageId: Map<string, LogEntry>;
  versions: Map<string, CurrentVersion & SnapshotEntity>;
}

/**
 * Storage in memory: nothing survives the process, but it survives a `SyncServer` being closed
 * and recreated on it (the simulation's "server restart"). For tests and experiments.
 *
 * @example const server = await createSyncServer({ port: 0, storage: memoryStorage(), allowInsecureDevAuth: true });
 */
export function memoryStorage(): SyncStorage {
  const rooms = new Map<string, Room>();
  const listeners = new Set<(roomId: string, head: number) => void>();
  const room = (roomId: string): Room => {
    let r = rooms.get(roomId);
    if (!r) {
      r = { log: [], byMessageId: new Map(), versions: new Map() };
      rooms.set(roomId, r);
    }
    return r;
  };
  const copy = <T>(value: T): T => structuredClone(value);
  return {
    async commit(roomId, changes, decide) {
      const r = room(roomId);
      const outcomes: CommitOutcome[] = [];
      for (const change of changes) {
        const existing = r.byMessageId.get(change.messageId);
        if (existing) {
          outcomes.push({ messageId: change.messageId, entry: copy(existing), duplicate: true });
          continue;
        }
        const key = entityKey(change.entityType, change.entityId);
        const decision = decide(change, r.versions.get(key));
        if (!decision.accept) {
          outcomes.push({
            messageId: change.messageId,
            rejected: { code: decision.code, message: decision.message },
          });
          continue;
        }
        const entry: LogEntry = {
          seq: r.log.length + 1,
          messageId: change.messageId,
          userId: change.userId,
          timestamp: change.timestamp,
          operation: decision.entity ? "upsert" : "delete",
          entityType: change.entityType,
          entityId: change.entityId,
          vector: decision.vector,
        };
        if (decision.entity) entry.entity = decision.entity;
        if (decision.conflict) entry.conflict = decision.conflict;
        r.log.push(copy(entry));
        r.byMessageId.set(entry.messageId, r.log[r.log.length - 1] as LogEntry);
        r.versions.set(key, {
          entityType: change.entityType,
          entityId: change.entityId,
          entity: decision.entity,
          vector: decision.vector,
          seq: entry.seq,
          timestamp: change.timestamp,
          userId: change.userId,
          messageId: change.messageId,
        });
        outcomes.push({ messageId: change.messageId, entry });
      }
      const head = r.log.length;
      for (const listener of listeners) listener(roomId, head);
      return outcomes;
    },
    async entriesAfter(roomId, after, limit = CATCH_UP_LIMIT) {
      return copy(room(roomId).log.slice(after, after + limit));
    },
    async snapshot(roomId) {
      const r = room(roomId);
      const versions = [...r.versions.values()].map(
        ({ entityType, entityId, entity, vector, seq }) => ({
          entityType,
          entityId,
          entity,
          vector,
          seq,
        }),
      );
      return { head: r.log.length, versions: copy(versions) };
    },
    async head(roomId) {
      return room(roomId).log.length;
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {},
  };
}
