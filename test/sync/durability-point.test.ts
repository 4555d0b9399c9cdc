// The durability point of a synced, persisted client: what `persistence.flush()` and
// `engine.whenPersisted()` promise, in the cases where the two lines of state could part.
import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { KalphiteSyncError } from "../../src/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { cleanupAfterEach, tempDir } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";

const cleanups = cleanupAfterEach();
const offline = "ws://127.0.0.1:9"; // never connected in these tests

async function openClient(dir: string) {
  const store = KalphiteStore(Entity);
  const db = new FrontendDatabase({ dbName: dir, schema: Entity });
  const persistence = await persist(store, db, { debounceMs: 0, onError: () => {} });
  const { engine } = devClient(cleanups, { url: offline, store, database: db });
  return { store, db, persistence, engine };
}

describe("the durability point", { timeout: 60_000 }, () => {
  it("a write made before the sync state loaded holds back no later outbox row", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const first = await openClient(dir.path);
    // Written before the engine's saved state has loaded; its row commits at once.
    first.store.comment.upsert("x", comment("x"));
    await first.persistence.flush();
    await first.engine.whenLoaded();
    first.store.comment.upsert("y", comment("y"));
    first.store.comment.upsert("z", comment("z"));
    await first.persistence.flush();
    // A crash now: the engine is never asked for its durability point.
    await first.db.close();

    const db = new FrontendDatabase({ dbName: dir.path, schema: Entity });
    cleanups.push(() => db.close());
    await db.init();
    const rows = (await db.getByType("comment")).map((c) => c.id).sort();
    const outbox = ((await db.syncState("room").load())?.outbox ?? []).map((o) => o.entityId);
    expect(rows).toEqual(["x", "y", "z"]);
    expect([...outbox].sort()).toEqual(["x", "y", "z"]);
  });

  it("a write made before the sync state loaded is in the outbox once its row is committed", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const first = await openClient(dir.path);
    // Written before the engine's saved state has loaded; its row is flushed at once.
    first.store.comment.upsert("x", comment("x", { body: "early edit" }));
    await first.persistence.flush();
    await first.engine.whenLoaded();
    await first.persistence.flush();
    // A crash now: nothing else is written, the engine is never asked for its durability point.
    await first.db.close();

    const db = new FrontendDatabase({ dbName: dir.path, schema: Entity });
    cleanups.push(() => db.close());
    await db.init();
    const rows = (await db.getByType("comment")).map((c) => (c.data as { body?: string }).body);
    const outbox = ((await db.syncState("room").load())?.outbox ?? []).map((o) => o.entityId);
    expect(rows).toEqual(["early edit"]);
    expect(outbox).toEqual(["x"]);
  });

  it("whenPersisted() rejects when the sync state cannot be written, and says so on error", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const client = await openClient(dir.path);
    await client.engine.whenLoaded();
    const errors: KalphiteSyncError[] = [];
    client.engine.on("error", (error) => errors.push(error));
    await client.db.close(); // the disk is gone
    client.store.comment.upsert("lost", comment("lost"));
    const failure = await client.engine.whenPersisted().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(KalphiteSyncError);
    expect((failure as KalphiteSyncError).code).toBe("persistence-failed");
    expect(errors.map((e) => e.code)).toContain("persistence-failed");
    // disconnect() still settles: the failure was reported, not thrown at a caller who did not ask.
    await expect(client.engine.disconnect()).resolves.toBeUndefined();
    await client.persistence.stop().catch(() => {});
  });
});

describe("a sync state that cannot be loaded", () => {
  it("keeps the engine offline with a persistence-failed error, instead of joining on an empty state", async () => {
    const store = KalphiteStore(Entity);
    const persistence = {
      load: () => Promise.reject(new Error("the disk is unreadable")),
      record: () => {},
      flush: () => Promise.resolve(),
    };
    const engine = devClient(cleanups, {
      url: offline,
      store,
      persistence,
    }).engine;
    const errors: KalphiteSyncError[] = [];
    engine.on("error", (error) => errors.push(error));
    await engine.whenLoaded();
    const failure = await engine.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(KalphiteSyncError);
    expect((failure as KalphiteSyncError).code).toBe("persistence-failed");
    expect((failure as Error).message).toMatch(/the disk is unreadable/);
    expect(errors.map((e) => e.code)).toEqual(["persistence-failed"]);
    expect(engine.getConnectionStatus()).toBe("disconnected");
    // Local writes still work, and queue.
    store.comment.upsert("c1", comment("c1"));
    expect(engine.getOfflineQueueSize()).toBe(1);
  });
});
