// One validation where data enters: a schema that counts its calls proves that a user's write, a
// database read and a server's change are each validated once, and that the store, the flush
// target, the database and the sync engine pass the validated, frozen entity on.
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { NetworkSyncEngine } from "../../src/sync/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, tempDir, WS, waitUntil } from "../server/helpers.js";

const cleanups = cleanupAfterEach();

/** The fixtures' schema, counting its validate calls. */
function countingSchema() {
  const inner = Entity["~standard"];
  const counter = {
    calls: 0,
    schema: {
      "~standard": {
        ...inner,
        validate: (value: unknown) => {
          counter.calls++;
          return inner.validate(value);
        },
      },
    } as unknown as StandardSchemaV1<unknown, Entity>,
  };
  return counter;
}

async function persistedClient(url: string, userId: string, dir: string) {
  const counter = countingSchema();
  const store = KalphiteStore(counter.schema);
  const db = new FrontendDatabase({ dbName: dir, schema: counter.schema });
  const persistence = await persist(store, db);
  const engine = new NetworkSyncEngine({
    wsUrl: url,
    roomId: "room",
    userId,
    store,
    database: db,
    WebSocket: WS,
  });
  cleanups.push(async () => {
    await engine.destroy();
    await persistence.stop();
    await db.close();
  });
  await engine.connect();
  return { counter, store, db, persistence, engine };
}

describe("one validation per entity per entry point", { timeout: 120_000 }, () => {
  it("a write validates once in the writer, once on the server, once in each receiver; a reload once per row", async () => {
    const serverSchema = countingSchema();
    const server = await devServer(cleanups, { schema: serverSchema.schema });
    const dirs = [tempDir(), tempDir()];
    for (const dir of dirs) cleanups.push(() => dir.remove());
    const ann = await persistedClient(server.url, "ann", dirs[0]!.path);
    const bob = await persistedClient(server.url, "bob", dirs[1]!.path);
    ann.counter.calls = bob.counter.calls = serverSchema.calls = 0;

    ann.store.comment.upsert("c1", comment("c1", { body: "once" }));
    await waitUntil(
      () =>
        ann.engine.getOfflineQueueSize() === 0 && bob.store.comment.findById("c1") !== undefined,
      { engines: [ann.engine, bob.engine] },
      "acknowledged and received",
    );
    await ann.engine.whenPersisted();
    await ann.persistence.flush();
    await bob.engine.whenPersisted();
    await bob.persistence.flush();
    // The writer: upsert. The flush target, the database, the outbox and the ack: none.
    expect(ann.counter.calls).toBe(1);
    // The server validates what it receives.
    expect(serverSchema.calls).toBe(1);
    // The receiver: the server's change entering its store. Its flush and database: none.
    expect(bob.counter.calls).toBe(1);

    // Many entities arriving as one batch: one call each.
    bob.counter.calls = 0;
    ann.store.batch(() => {
      for (let i = 0; i < 20; i++) ann.store.comment.upsert(`m${i}`, comment(`m${i}`));
    });
    await waitUntil(
      () => bob.store.comment.length === 21,
      { engines: [bob.engine] },
      "twenty more received",
    );
    await bob.persistence.flush();
    expect(bob.counter.calls).toBe(20);

    // A reload: each stored row is validated once as it is read; hydration and the sync
    // engine's confirmed versions (left to the rows) add none.
    await bob.engine.destroy();
    await bob.persistence.stop();
    await bob.db.close();
    const again = countingSchema();
    const store = KalphiteStore(again.schema);
    const db = new FrontendDatabase({ dbName: dirs[1]!.path, schema: again.schema });
    const persistence = await persist(store, db);
    const engine = new NetworkSyncEngine({
      wsUrl: server.url,
      roomId: "room",
      userId: "bob",
      store,
      database: db,
      WebSocket: WS,
    });
    cleanups.push(async () => {
      await engine.destroy();
      await persistence.stop();
      await db.close();
    });
    await engine.whenLoaded();
    expect(store.comment.length).toBe(21);
    expect(again.calls).toBe(21);
  });
});
