// A write made on a reloaded, persisted client before the engine's saved state has loaded (the UI
// is up once persist() hydrated the store): the server's version of that entity is still the
// hydrated row's, not the write, so a refusal shows the server's version again, and so does the
// state persisted for the next reload.
import { type } from "arktype";
import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { NetworkSyncEngine, type RefusedChange } from "../../src/sync/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, WS, waitUntil } from "../server/helpers.js";

const cleanups = cleanupAfterEach();

/** The server refuses a comment whose body is "forbidden"; the client's schema does not. */
const StrictEntity = type({
  id: "string",
  type: "'comment'",
  updatedAt: "number",
  data: { body: "string", lineNumber: "number", status: "'open'|'resolved'" },
}).narrow((e) => e.data.body !== "forbidden");

/** An engine syncing `store` as ann with the server at `url`, its state kept in `db`. */
function engineOf(url: string, store: KalphiteStore<Entity>, db: FrontendDatabase<Entity>) {
  const engine = new NetworkSyncEngine({
    wsUrl: url,
    roomId: "room",
    userId: "ann",
    store,
    database: db,
    WebSocket: WS,
  });
  engine.on("error", () => {});
  return engine;
}

/** A client of `db` (a reload is a new store, persist() and engine on the same database). */
async function openClient(url: string, db: FrontendDatabase<Entity>) {
  const store = KalphiteStore(Entity);
  const persistence = await persist(store, db, { debounceMs: 0 });
  const engine = engineOf(url, store, db);
  const close = async () => {
    await engine.destroy();
    await persistence.stop();
  };
  return { store, engine, close };
}

/** A strict server and a database in which a first client saved "c1" as the server acked it. */
async function serverAcked() {
  const server = await devServer(cleanups, { schema: StrictEntity });
  const db = new FrontendDatabase({ dbName: "memory://", schema: Entity });
  cleanups.push(() => db.close());
  const first = await openClient(server.url, db);
  await first.engine.connect();
  first.store.comment.upsert("c1", comment("c1", { body: "the server's" }));
  await waitUntil(
    () => first.engine.getOfflineQueueSize() === 0,
    { engines: [first.engine] },
    "the ack",
  );
  await first.engine.whenPersisted();
  await first.close();
  return { server, db };
}

describe("a write made before the saved sync state loaded", { timeout: 60_000 }, () => {
  it("refused by the server, shows the server's version again, then and after a reload", async () => {
    const { server, db } = await serverAcked();

    const client = await openClient(server.url, db);
    cleanups.push(() => client.close());
    const refusals: RefusedChange[] = [];
    client.engine.on("refused", (refusal) => refusals.push(refusal));
    // Hydrated, not yet loaded: the user edits at once.
    client.store.comment.upsert("c1", comment("c1", { body: "forbidden" }, 2));
    await client.engine.whenLoaded();
    expect(client.engine.getOfflineQueueSize()).toBe(1);
    await client.engine.connect();
    await waitUntil(() => refusals.length === 1, { engines: [client.engine] }, "the refusal");
    expect(client.engine.getOutbox()).toEqual([]);
    expect(client.store.comment.findById("c1")?.data.body).toBe("the server's");
    await client.engine.whenPersisted();
    await client.close();

    // What was persisted says the same: the confirmed version is the server's.
    const store = KalphiteStore(Entity);
    const persistence = await persist(store, db);
    cleanups.push(() => persistence.stop());
    const state = await db.syncState("room").load();
    expect(state?.outbox).toEqual([]);
    expect(store.comment.findById("c1")?.data.body).toBe("the server's");
    const version = state?.versions.find((v) => v.entityId === "c1");
    const entity = version?.entity === undefined ? store.comment.findById("c1") : version.entity;
    expect((entity as { data: { body: string } } | null)?.data.body).toBe("the server's");
  });
});

describe("an engine that loaded before persist() linked the database", { timeout: 60_000 }, () => {
  it("an edit made then and refused after a reload shows the server's version again", async () => {
    const { server, db } = await serverAcked();

    // The engine loads first (its shown version read from the row), persist() links after.
    const store = KalphiteStore(Entity);
    const engine = engineOf(server.url, store, db);
    await engine.whenLoaded();
    const persistence = await persist(store, db, { debounceMs: 0 });
    expect(store.comment.findById("c1")?.data.body).toBe("the server's");
    // Offline: the edit's row replaces the one the confirmed version was left to.
    store.comment.upsert("c1", comment("c1", { body: "forbidden" }, 2));
    await engine.whenPersisted();
    await engine.destroy();
    await persistence.stop();

    const client = await openClient(server.url, db);
    cleanups.push(() => client.close());
    const refusals: RefusedChange[] = [];
    client.engine.on("refused", (refusal) => refusals.push(refusal));
    await client.engine.whenLoaded();
    expect(client.engine.getOfflineQueueSize()).toBe(1);
    await client.engine.connect();
    await waitUntil(() => refusals.length === 1, { engines: [client.engine] }, "the refusal");
    expect(client.store.comment.findById("c1")?.data.body).toBe("the server's");
  });
});
