// One behavioural suite for SyncPersistence, run over every implementation: in memory, and a
// FrontendDatabase's sync tables with and without a persisted store.
import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import {
  type ConfirmedVersion,
  type LoadedSyncState,
  memoryPersistence,
  type OutboxEntry,
  type SyncPersistence,
} from "../../src/sync/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { cleanupAfterEach } from "../server/helpers.js";

const cleanups = cleanupAfterEach();

const version = (id: string, seq: number): ConfirmedVersion => ({
  entityType: "comment",
  entityId: id,
  entity: comment(id, { body: `v${seq}` }),
  vector: { bob: seq },
  seq,
});
const entry = (id: string, n: number): OutboxEntry => ({
  messageId: `m${n}`,
  timestamp: n,
  operation: "upsert",
  entityType: "comment",
  entityId: id,
  entity: comment(id, { body: `local ${n}` }),
  vector: {},
  strategy: "last-write-wins",
});

/** Each implementation: a fresh one, and a second instance reading what the first recorded. */
const implementations: Record<
  string,
  () => Promise<{ persistence: SyncPersistence; reopen(): Promise<SyncPersistence> }>
> = {
  memory: async () => {
    const persistence = memoryPersistence();
    return { persistence, reopen: async () => persistence };
  },
  "database, no persisted store": async () => {
    const db = new FrontendDatabase({ dbName: "memory://", schema: Entity });
    cleanups.push(() => db.close());
    return { persistence: db.syncState("room"), reopen: async () => db.syncState("room") };
  },
  "database with persist()": async () => {
    const db = new FrontendDatabase({ dbName: "memory://", schema: Entity });
    const store = KalphiteStore(Entity);
    const persistence = await persist(store, db);
    cleanups.push(async () => {
      await persistence.stop();
      await db.close();
    });
    return { persistence: db.syncState("room"), reopen: async () => db.syncState("room") };
  },
};

function normalized(state: LoadedSyncState | undefined) {
  if (!state) return state;
  return {
    cursor: state.cursor,
    limits: state.limits,
    outbox: state.outbox.map((e) => e.messageId),
    versions: state.versions
      .map((v) => ({ id: v.entityId, seq: v.seq, vector: v.vector, entity: v.entity }))
      .sort((a, b) => a.id.localeCompare(b.id)),
  };
}

for (const [name, open] of Object.entries(implementations)) {
  describe(`SyncPersistence: ${name}`, () => {
    it("loads nothing before anything was recorded", async () => {
      const { persistence } = await open();
      expect(await persistence.load()).toBeUndefined();
    });

    it("loads back what was recorded, the last value of each row winning, the outbox in order", async () => {
      const { persistence, reopen } = await open();
      persistence.record({ kind: "version", version: version("a", 1), shown: false });
      persistence.record({ kind: "version", version: version("b", 2), shown: false });
      persistence.record({ kind: "outbox-add", entry: entry("a", 1) });
      persistence.record({ kind: "outbox-add", entry: entry("c", 2) });
      persistence.record({ kind: "outbox-add", entry: entry("c", 3) });
      persistence.record({ kind: "cursor", cursor: 2 });
      await persistence.flush();
      persistence.record({ kind: "version", version: version("a", 3), shown: false });
      persistence.record({ kind: "outbox-remove", messageId: "m1" });
      persistence.record({ kind: "forget-version", entityType: "comment", entityId: "b" });
      persistence.record({ kind: "cursor", cursor: 3 });
      persistence.record({ kind: "limits", limits: { maxMessageBytes: 5_000, maxDepth: 9 } });
      await persistence.flush();
      const loaded = normalized(await (await reopen()).load());
      expect(loaded).toEqual({
        cursor: 3,
        limits: { maxMessageBytes: 5_000, maxDepth: 9 },
        outbox: ["m2", "m3"],
        versions: [{ id: "a", seq: 3, vector: { bob: 3 }, entity: version("a", 3).entity }],
      });
    });

    it("a reset forgets every version recorded before it", async () => {
      const { persistence, reopen } = await open();
      persistence.record({ kind: "version", version: version("a", 1), shown: false });
      await persistence.flush();
      persistence.record({ kind: "reset-versions" });
      persistence.record({ kind: "version", version: version("b", 2), shown: false });
      persistence.record({ kind: "cursor", cursor: 2 });
      await persistence.flush();
      const loaded = normalized(await (await reopen()).load());
      expect(loaded?.versions.map((v) => v.id)).toEqual(["b"]);
      expect(loaded?.cursor).toBe(2);
    });
  });
}
