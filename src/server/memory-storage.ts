import { entityKey } from "../core/entity-key.js";
import type { LogEntry, SnapshotEntity } from "../protocol/messages.js";
import { commitBatch, versionOf } from "./commit-batch.js";
import { CATCH_UP_LIMIT, type SyncStorage } from "./storage.js";

interface Room {
  log: LogEntry[];
  byMessageId: Map<string, LogEntry>;
  /** The last entry of each entity: its current version. */
  latest: Map<string, LogEntry>;
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
      r = { log: [], byMessageId: new Map(), latest: new Map() };
      rooms.set(roomId, r);
    }
    return r;
  };
  const copy = <T>(value: T): T => structuredClone(value);
  return {
    async commit(roomId, changes, decide) {
      const r = room(roomId);
      const { outcomes, entries } = commitBatch(
        changes,
        {
          head: r.log.length,
          entry: (messageId) => {
            const stored = r.byMessageId.get(messageId);
            return stored && copy(stored);
          },
          version: (entityType, entityId) => {
            const latest = r.latest.get(entityKey(entityType, entityId));
            return latest && versionOf(latest);
          },
        },
        decide,
      );
      for (const entry of entries) {
        const stored = copy(entry);
        r.log.push(stored);
        r.byMessageId.set(stored.messageId, stored);
        r.latest.set(entityKey(stored.entityType, stored.entityId), stored);
      }
      // Only commits that appended entries are announced (see CommitBatch.entries).
      if (entries.length > 0) for (const listener of listeners) listener(roomId, r.log.length);
      return outcomes;
    },
    async entriesAfter(roomId, after, limit = CATCH_UP_LIMIT) {
      return copy(room(roomId).log.slice(after, after + limit));
    },
    async snapshot(roomId) {
      const r = room(roomId);
      const versions = [...r.latest.values()].map(
        ({ entityType, entityId, entity, vector, seq }): SnapshotEntity => ({
          entityType,
          entityId,
          entity: entity ?? null,
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
