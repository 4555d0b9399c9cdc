// The sync engine's state in a FrontendDatabase: rows per confirmed version and outbox entry,
// committed with the entity rows, reloaded, and migrated from the first release's single value.
import { describe, expect, it } from "vitest";
import { KalphiteStorageLimitError, KalphiteStore } from "../../src/core/index.js";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { memoryStorage } from "../../src/server/index.js";
import type { OutboxEntry, SyncPersistence, SyncState } from "../../src/sync/index.js";
import { comment, Entity, outboxUpsert } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, tempDir, waitUntil } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";
import { persistedClient } from "../support/persisted-client.js";
import { pausedFlushDatabase } from "./helpers.js";

const cleanups = cleanupAfterEach();

/** A persisted, synced client on `dir`, loaded; closed after the test unless closed before. */
async function client(dir: string, url: string, userId = "ann") {
  const client = await persistedClient(cleanups, { dir, url, userId });
  await client.engine.whenLoaded();
  return client;
}

/**
 * A sync state in the first release's exact shape (one `kalphite.sync.<room>` value): one
 * comment written offline, waiting in the outbox.
 */
function firstReleaseState() {
  const pending = comment("pending", { body: "written offline" });
  const outboxEntry: OutboxEntry = {
    messageId: "m-pending",
    timestamp: 5,
    operation: "upsert",
    entityType: "comment",
    entityId: "pending",
    entity: pending,
    vector: {},
    strategy: "last-write-wins",
    changedFields: ["body", "lineNumber", "status"],
  };
  const state: SyncState = {
    version: 1,
    roomId: "room",
    cursor: 0,
    confirmed: [],
    outbox: [outboxEntry],
  };
  return { pending, outboxEntry, state };
}

describe("sync state in the database", { timeout: 120_000 }, () => {
  it("is what db.syncState(roomId) gives, and fits the sync layer's SyncPersistence", () => {
    const db = new FrontendDatabase({ dbName: "memory://", schema: Entity });
    const persistence: SyncPersistence = db.syncState("room");
    expect(db.syncState("room")).toBe(persistence);
    expect(() => db.syncState("")).toThrow(/non-empty string roomId/);
  });

  it("a write, its ack and a remote change reload: entities, outbox, cursor and versions", async () => {
    const server = await devServer(cleanups);
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const bob = devClient(cleanups, {
      url: server.url,
      userId: "bob",
    }).engine;
    await bob.connect();

    const first = await client(dir.path, server.url);
    await first.engine.connect();
    first.store.comment.upsert("mine", comment("mine", { body: "acked" }));
    await waitUntil(
      () => first.engine.getOfflineQueueSize() === 0,
      { engines: [first.engine] },
      "ack",
    );
    bob.sendChange({
      type: "change",
      messageId: "from-bob",
      userId: "bob",
      timestamp: 1,
      payload: {
        operation: "upsert",
        entityType: "comment",
        entityId: "theirs",
        entity: comment("theirs", { body: "from bob" }),
        vector: {},
      },
    });
    await waitUntil(
      () => first.engine.getCursor() === 2,
      { engines: [first.engine] },
      "bob's change",
    );
    await first.engine.disconnect();
    first.store.comment.upsert("offline", comment("offline", { body: "pending" }));
    await first.engine.whenPersisted();
    await first.close();

    const again = await client(dir.path, server.url);
    expect(again.engine.getCursor()).toBe(2);
    expect(again.engine.getOutbox().map((e) => e.entityId)).toEqual(["offline"]);
    expect(again.store.comment.findById("theirs")?.data.body).toBe("from bob");
    expect(again.store.comment.findById("offline")?.data.body).toBe("pending");
    // The confirmed version came back: an edit of "mine" is made on the server's version.
    again.store.comment.upsert("mine", comment("mine", { body: "edited" }));
    expect(again.engine.getOutbox().at(-1)?.vector).toEqual({ ann: 1 });
    await again.engine.connect();
    await waitUntil(
      () => again.engine.getOfflineQueueSize() === 0,
      { engines: [again.engine] },
      "sent",
    );
    expect(again.engine.getCursor()).toBe(4);
  });

  it("a backup carries the sync state: restored, the engine has its outbox, cursor and versions, and sends the offline edit once", async () => {
    const storage = memoryStorage();
    const server = await devServer(cleanups, { storage });
    const source = tempDir();
    const target = tempDir();
    cleanups.push(
      () => source.remove(),
      () => target.remove(),
    );
    const bobStore = KalphiteStore(Entity);
    const bob = devClient(cleanups, {
      url: server.url,
      userId: "bob",
      store: bobStore,
    }).engine;
    await bob.connect();

    const first = await client(source.path, server.url);
    await first.engine.connect();
    first.store.comment.upsert("mine", comment("mine", { body: "acked" }));
    await waitUntil(
      () => first.engine.getOfflineQueueSize() === 0 && first.engine.getCursor() === 1,
      { engines: [first.engine] },
      "ack",
    );
    await first.engine.disconnect();
    first.store.comment.upsert("offline", comment("offline", { body: "unsent" }));
    await first.engine.whenPersisted();
    const blob = await first.db.backup();
    await first.close();

    // Both read without a persisted store, so each version comes with its entity.
    const original = new FrontendDatabase({ dbName: source.path, schema: Entity });
    const before = await original.syncState("room").load();
    await original.close();
    expect(before?.outbox.map((e) => e.entityId)).toEqual(["offline"]);
    expect(before?.versions.map((v) => [v.entityId, v.entity])).toEqual([
      ["mine", comment("mine", { body: "acked" })],
    ]);
    const fresh = new FrontendDatabase({ dbName: target.path, schema: Entity });
    await fresh.restore(blob);
    expect(await fresh.syncState("room").load()).toEqual(before);
    await fresh.close();

    const restored = await client(target.path, server.url);
    expect(restored.engine.getCursor()).toBe(1);
    expect(restored.engine.getOutbox()).toEqual(before?.outbox);
    expect(restored.store.comment.findById("offline")?.data.body).toBe("unsent");
    // The confirmed version came back: an edit of "mine" is made on the server's version.
    restored.store.comment.upsert("mine", comment("mine", { body: "edited" }));
    expect(restored.engine.getOutbox().at(-1)?.vector).toEqual({ ann: 1 });
    await restored.engine.connect();
    await waitUntil(
      () =>
        restored.engine.getOfflineQueueSize() === 0 &&
        bobStore.comment.findById("offline")?.data.body === "unsent" &&
        bobStore.comment.findById("mine")?.data.body === "edited",
      { engines: [restored.engine, bob] },
      "the offline edits",
    );
    expect(restored.store.comment.findById("offline")?.data.body).toBe("unsent");
    const log = await storage.entriesAfter("room", 0, 100);
    expect(log.map((e) => e.entityId)).toEqual(["mine", "offline", "mine"]);
  });

  it("an old-format backup (sync state in meta, no sync tables) restores, and its state is migrated", async () => {
    const server = await devServer(cleanups);
    const target = tempDir();
    cleanups.push(() => target.remove());
    const { pending, outboxEntry, state: legacy } = firstReleaseState();
    // A backup as the previous format wrote it: no sync tables, the sync state in meta.
    const old = new Blob([
      JSON.stringify({
        format: "kalphite-backup",
        formatVersion: 1,
        schemaVersion: 0,
        createdAt: 0,
        meta: { "kalphite.sync.room": legacy, other: 3 },
        entities: [{ type: "comment", id: "pending", entity: pending }],
      }),
    ]);
    const fresh = new FrontendDatabase({ dbName: target.path, schema: Entity });
    // Sync state already in the database is replaced, as everything else.
    fresh.syncState("stale").record({ kind: "cursor", cursor: 9 });
    await fresh.syncState("stale").flush();
    await fresh.restore(old);
    expect(await fresh.syncState("stale").load()).toBeUndefined();
    expect(await fresh.getMeta("other")).toBe(3);
    await fresh.close();

    const restored = await client(target.path, server.url);
    expect(restored.engine.getCursor()).toBe(0);
    expect(restored.engine.getOutbox()).toEqual([outboxEntry]);
    expect(restored.store.comment.findById("pending")).toEqual(pending);
  });

  it("opens a database of the first release (one kalphite.sync.<room> value): migrated, nothing lost or sent twice", async () => {
    const storage = memoryStorage();
    const server = await devServer(cleanups, { storage });
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    // The first release's exact shape, as its databasePersistence saved it with setMeta.
    const acked = comment("acked", { body: "on the server" });
    const { pending, outboxEntry, state: old } = firstReleaseState();
    {
      const store = KalphiteStore(Entity);
      const db = new FrontendDatabase({ dbName: dir.path, schema: Entity });
      const persistence = await persist(store, db);
      store.comment.upsert("pending", pending);
      await persistence.stop();
      await db.setMeta("kalphite.sync.room", old);
      await db.close();
    }
    // The server already holds one change of this client, acknowledged before the upgrade.
    const writer = await client(tempDir().path, server.url);
    await writer.engine.connect();
    writer.store.comment.upsert("acked", acked);
    await waitUntil(
      () => writer.engine.getOfflineQueueSize() === 0,
      { engines: [writer.engine] },
      "ack",
    );
    await writer.close();
    {
      const db = new FrontendDatabase({ dbName: dir.path, schema: Entity });
      await db.setMeta("kalphite.sync.room", {
        ...old,
        cursor: 1,
        confirmed: [
          { entityType: "comment", entityId: "acked", entity: acked, vector: { ann: 1 }, seq: 1 },
        ],
      });
      await db.close();
    }

    const upgraded = await client(dir.path, server.url);
    expect(upgraded.engine.getCursor()).toBe(1);
    expect(upgraded.engine.getOutbox()).toEqual([outboxEntry]);
    expect(upgraded.store.comment.findById("acked")?.data.body).toBe("on the server");
    expect(await upgraded.db.getMeta("kalphite.sync.room")).toBeUndefined();
    await upgraded.engine.connect();
    await waitUntil(
      () => upgraded.engine.getOfflineQueueSize() === 0,
      { engines: [upgraded.engine] },
      "sent",
    );
    await upgraded.close();

    // Reopened once more: nothing left to send, nothing migrated again.
    const reopened = await client(dir.path, server.url);
    expect(reopened.engine.getOutbox()).toEqual([]);
    expect(reopened.engine.getCursor()).toBe(2);
    const log = await storage.entriesAfter("room", 0, 100);
    expect(log.map((e) => e.messageId).filter((id) => id === "m-pending")).toHaveLength(1);
    expect(log).toHaveLength(2);
  });

  it("counts the sync tables against maxStorageMB: an outbox past the limit is refused, and what fits is counted", async () => {
    const db = new FrontendDatabase({ dbName: "memory://", schema: Entity, maxStorageMB: 0.01 });
    cleanups.push(() => db.close());
    const state = db.syncState("room");
    await state.load();
    const entry = (id: string, body: string) => outboxUpsert(comment(id, { body }));
    // 6,000 bytes of outbox fit under 10,485 bytes; a second such entry does not.
    state.record({ kind: "outbox-add", entry: entry("a", "x".repeat(6_000)) });
    await state.flush();
    state.record({ kind: "outbox-add", entry: entry("b", "y".repeat(6_000)) });
    await expect(state.flush()).rejects.toThrow(KalphiteStorageLimitError);
    // The outbox row counted: an entity that fits beside nothing no longer fits beside it.
    await expect(db.setMeta("note", "z".repeat(6_000))).rejects.toThrow(KalphiteStorageLimitError);
    expect((await state.load())?.outbox.map((e) => e.messageId)).toEqual(["m-a"]);
  });

  it("a batch that failed leaves no delta it marked to commit later without its entity row", async () => {
    // This test plays the flush engine's part, batch by batch.
    const { db, state } = await pausedFlushDatabase(cleanups, { maxStorageMB: 0.05 });
    const y = comment("y", { body: "small" });
    const x = comment("x", { body: "x".repeat(80_000) }); // past maxStorageMB: its batch fails
    // As a replica records them: a local write of y, then a remote version of x and the cursor.
    const entry = outboxUpsert(y);
    state.record({ kind: "outbox-add", entry }, { entityType: "comment", entityId: "y" });
    state.record(
      {
        kind: "version",
        shown: true,
        version: { entityType: "comment", entityId: "x", entity: x, vector: { bob: 1 }, seq: 1 },
      },
      { entityType: "comment", entityId: "x" },
    );
    state.record({ kind: "cursor", cursor: 1 });
    const upsert = (entity: typeof x) => ({
      operation: "upsert" as const,
      entityType: "comment",
      entityId: entity.id,
      entity,
      timestamp: 1,
    });
    await expect(db.applyChanges([upsert(x)])).rejects.toThrow(KalphiteStorageLimitError);
    await db.applyChanges([upsert(y)]);
    // y and its outbox entry are in; x's version and the cursor past it wait for x's row.
    expect((await db.getByType("comment")).map((c) => c.id)).toEqual(["y"]);
    const loaded = await state.load();
    expect(loaded?.outbox.map((e) => e.messageId)).toEqual(["m-y"]);
    expect(loaded?.versions).toEqual([]);
    expect(loaded?.cursor).toBe(0);
  });
});
