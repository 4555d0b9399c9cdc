// A saved outbox loads asynchronously: whenLoaded() says when it is in, and the `queue` event
// tells a counter the number, so a UI does not show 0 pending changes after a reload.
import { describe, expect, it } from "vitest";
import { memoryPersistence, type SyncPersistence } from "../../src/sync/index.js";
import { comment } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, waitUntil } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";

const cleanups = cleanupAfterEach();

/** A persistence whose load waits until `release()`: the test decides when loading finishes. */
function heldPersistence(inner: SyncPersistence): SyncPersistence & { release(): void } {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    load: async () => {
      await held;
      return inner.load();
    },
    record: (delta, entity) => inner.record(delta, entity),
    flush: () => inner.flush(),
    release: () => release(),
  };
}

describe("loading the saved outbox", () => {
  it("whenLoaded() resolves with the saved changes counted, and `queue` announces them", async () => {
    const server = await devServer(cleanups);
    const saved = memoryPersistence();
    const config = { url: server.url, roomId: "r" };

    // A first run writes two changes offline and saves them.
    {
      const { store, engine } = devClient(cleanups, { ...config, persistence: saved });
      store.comment.upsert("c1", comment("c1"));
      store.comment.upsert("c2", comment("c2"));
      await engine.whenPersisted();
      await engine.destroy();
      expect(saved.state?.outbox).toHaveLength(2);
    }

    // The reload: the saved outbox is still loading.
    const persistence = heldPersistence(saved);
    const { store, engine } = devClient(cleanups, { ...config, persistence });
    const sizes: number[] = [];
    engine.on("queue", (size) => sizes.push(size));
    let loaded = false;
    const whenLoaded = engine.whenLoaded().then(() => {
      loaded = true;
    });
    store.comment.upsert("c3", comment("c3")); // written before the load finished
    await Promise.resolve();
    expect(loaded).toBe(false);
    expect(engine.getOfflineQueueSize()).toBe(1);
    expect(sizes).toEqual([1]);

    persistence.release();
    await whenLoaded;
    expect(engine.getOfflineQueueSize()).toBe(3);
    expect(sizes.at(-1)).toBe(3);
    expect(store.comment.findById("c1")).toBeDefined();

    // Connected, the counter goes down to 0 as the server acknowledges.
    await engine.connect();
    await waitUntil(() => sizes.at(-1) === 0, { engines: [engine] }, "the queue to empty");
    expect(engine.getOfflineQueueSize()).toBe(0);
  });

  it("announces the loaded size once even when it is 0, and with no persistence", async () => {
    for (const persistence of [memoryPersistence(), undefined]) {
      const engine = devClient(cleanups, {
        url: "ws://127.0.0.1:1",
        roomId: "r",
        ...(persistence ? { persistence } : {}),
      }).engine;
      const sizes: number[] = [];
      engine.on("queue", (size) => sizes.push(size));
      await engine.whenLoaded();
      expect(sizes).toEqual([0]);
    }
  });
});
