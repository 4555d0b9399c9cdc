import { entityKey } from "../../core/entity-key.js";
import type { LogEntry, SnapshotEntity } from "../../protocol/messages.js";
import { commitBatch, versionOf } from "./commit-batch.js";
import { CATCH_UP_LIMIT, type SyncStorage } from "./storage.js";

interface Room {
  /** The log in seq order (with gaps once compacted). */
  log: LogEntry[];
  head: number;
  horizon: number;
  byMessageId: Map<string, LogEntry>;
  /**
   * Message ids of entries compacted away, with the entity they changed and when the server
   * stored them: resends stay resends. Not capped: it holds one id per entry stored within the
   * last tombstone TTL, as the SQL storages' compacted table does (~150 bytes each). Dropping
   * ids sooner would let a late resend apply twice, and this storage is for tests, where rooms
   * see far fewer writes than that in a TTL.
   */
  compacted: Map<string, { key: string; storedAt: number }>;
  /** When the server stored each entry (its clock, not the writer's): compaction expires by it. */
  storedAt: WeakMap<LogEntry, number>;
  /** The last entry of each entity: its current version. */
  latest: Map<string, LogEntry>;
  /** The keys of `latest` in snapshot order, rebuilt when an entity appears or is forgotten. */
  order: { key: string; pair: [string, string] }[] | undefined;
}

const toVersion = ({ entityType, entityId, entity, vector, seq }: LogEntry): SnapshotEntity => ({
  entityType,
  entityId,
  entity: entity ?? null,
  vector,
  seq,
});

/** Orders (type, id) pairs as the SQL storages' default collation does for plain ASCII ids. */
const compareKeys = (a: [string, string], b: [string, string]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

/**
 * Storage in memory: nothing survives the process, but it survives a `SyncServer` being closed
 * and recreated on it (the simulation's "server restart"). For tests and experiments: besides
 * the latest versions, it holds the id of every entry compacted within the tombstone TTL.
 *
 * @example const server = await createSyncServer({ port: 0, storage: memoryStorage(), allowInsecureDevAuth: true });
 */
export function memoryStorage(): SyncStorage {
  const rooms = new Map<string, Room>();
  const listeners = new Set<(roomId: string, head: number, byThisProcess: boolean) => void>();
  const room = (roomId: string): Room => {
    let r = rooms.get(roomId);
    if (!r) {
      r = {
        log: [],
        head: 0,
        horizon: 0,
        byMessageId: new Map(),
        compacted: new Map(),
        storedAt: new WeakMap(),
        latest: new Map(),
        order: undefined,
      };
      rooms.set(roomId, r);
    }
    return r;
  };
  const copy = <T>(value: T): T => structuredClone(value);
  /** The index of the first entry with seq > `after`. */
  const indexAfter = (log: LogEntry[], after: number) => {
    let low = 0;
    let high = log.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((log[mid] as LogEntry).seq <= after) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  return {
    async commit(roomId, changes, decide, options = {}) {
      const r = room(roomId);
      const now = options.now ?? Date.now();
      const { outcomes, entries } = commitBatch(
        changes,
        {
          head: r.head,
          entry: (messageId) => {
            const stored = r.byMessageId.get(messageId);
            if (stored) return copy(stored);
            // Compacted away: answered with what stands for it now, its entity's latest entry.
            const compacted = r.compacted.get(messageId);
            const latest = compacted && r.latest.get(compacted.key);
            return latest && copy(latest);
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
        r.storedAt.set(stored, now);
        r.byMessageId.set(stored.messageId, stored);
        const key = entityKey(stored.entityType, stored.entityId);
        if (!r.latest.has(key)) r.order = undefined;
        r.latest.set(key, stored);
        r.head = stored.seq;
      }
      // Only commits that appended entries are announced (see CommitBatch.entries).
      if (entries.length > 0) for (const listener of listeners) listener(roomId, r.head, true);
      return outcomes;
    },
    async entriesAfter(roomId, after, limit = CATCH_UP_LIMIT) {
      const log = room(roomId).log;
      const start = indexAfter(log, after);
      return copy(log.slice(start, start + limit));
    },
    async snapshot(roomId) {
      const r = room(roomId);
      return { head: r.head, versions: copy([...r.latest.values()].map(toVersion)) };
    },
    async snapshotPage(roomId, { after, limit }) {
      const r = room(roomId);
      r.order ??= [...r.latest.values()]
        .map((e) => ({
          key: entityKey(e.entityType, e.entityId),
          pair: [e.entityType, e.entityId] as [string, string],
        }))
        .sort((a, b) => compareKeys(a.pair, b.pair));
      const order = r.order;
      let low = 0;
      let high = order.length;
      while (after && low < high) {
        const mid = (low + high) >> 1;
        if (compareKeys((order[mid] as (typeof order)[number]).pair, after) <= 0) low = mid + 1;
        else high = mid;
      }
      return order
        .slice(low, low + limit)
        .map(({ key }) => copy(toVersion(r.latest.get(key) as LogEntry)));
    },
    async entityCount(roomId, atMost = Number.POSITIVE_INFINITY) {
      return Math.min(room(roomId).latest.size, atMost);
    },
    async head(roomId) {
      return room(roomId).head;
    },
    async horizon(roomId) {
      return room(roomId).horizon;
    },
    async compact(roomId, { horizon, tombstonesBefore }) {
      const r = room(roomId);
      const storedAt = (entry: LogEntry) => r.storedAt.get(entry) ?? entry.timestamp;
      const upTo = Math.min(horizon, r.head);
      const before = r.log.length;
      const forgotten = new Set<string>();
      for (const [key, latest] of r.latest)
        if (!latest.entity && latest.seq <= upTo && storedAt(latest) < tombstonesBefore)
          forgotten.add(key);
      r.log = r.log.filter((entry) => {
        const key = entityKey(entry.entityType, entry.entityId);
        const superseded = r.latest.get(key) !== entry || forgotten.has(key);
        if (entry.seq > upTo || !superseded) return true;
        r.byMessageId.delete(entry.messageId);
        if (!forgotten.has(key))
          r.compacted.set(entry.messageId, { key, storedAt: storedAt(entry) });
        return false;
      });
      for (const key of forgotten) r.latest.delete(key);
      if (forgotten.size > 0) r.order = undefined;
      // Ids of entries whose entity is forgotten, or older than the tombstones, go too.
      for (const [id, compacted] of r.compacted)
        if (forgotten.has(compacted.key) || compacted.storedAt < tombstonesBefore)
          r.compacted.delete(id);
      r.horizon = Math.max(r.horizon, upTo);
      return { removed: before - r.log.length };
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {},
  };
}
