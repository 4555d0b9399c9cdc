// The outbox and cursor persisted in a real FrontendDatabase (PGlite on disk) survive a restart.
import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import { createSyncServer, memoryStorage, signToken } from "../../src/server/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { cleanupAfterEach, SECRET, tempDir, waitUntil } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";
import { persistedClient } from "../support/persisted-client.js";

const cleanups = cleanupAfterEach();

describe("sync state in a FrontendDatabase", { timeout: 180_000 }, () => {
  it("an offline edit survives a process restart and is sent on reconnect", async () => {
    const server = await createSyncServer({
      port: 0,
      storage: memoryStorage(),
      secret: SECRET,
      schema: Entity,
    });
    cleanups.push(() => server.close());
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const token = signToken({ userId: "ann" }, SECRET);
    const config = { dir: dir.path, url: server.url, authToken: token };

    // First run: online, then offline with one edit, then the process ends.
    {
      const { store, engine, close } = await persistedClient(cleanups, config);
      await engine.connect();
      store.comment.upsert("online", comment("online"));
      await waitUntil(() => engine.getOfflineQueueSize() === 0, { engines: [engine] }, "ack");
      await engine.disconnect();
      store.comment.upsert("offline", comment("offline", { body: "written offline" }));
      await engine.whenPersisted();
      await close();
    }

    // Second run: the store comes back from the database, the outbox from its metadata.
    const { store, engine } = await persistedClient(cleanups, config);
    await engine.whenPersisted();
    expect(engine.getOfflineQueueSize()).toBe(1);
    expect(engine.getCursor()).toBe(1); // resumes after "online" instead of downloading the room
    expect(store.comment.findById("offline")?.data.body).toBe("written offline");
    await engine.connect();
    await waitUntil(
      () => engine.getOfflineQueueSize() === 0,
      { engines: [engine] },
      "the offline edit acknowledged",
    );

    const other = KalphiteStore(Entity);
    const bob = devClient(cleanups, {
      url: server.url,
      userId: "bob",
      authToken: signToken({ userId: "bob" }, SECRET),
      store: other,
    }).engine;
    await bob.connect();
    expect(other.comment.map((c) => c.id).sort()).toEqual(["offline", "online"]);
  });
});
