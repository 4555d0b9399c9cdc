import { describe, expect, it } from "vitest";
import { comment, Entity, review } from "../fixtures/schema.js";
import { canonical, cleanupAfterEach, devServer, tempDir, waitUntil } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";
import { persistedClient } from "../support/persisted-client.js";

const cleanups = cleanupAfterEach();

describe("offline, reload, then online", { timeout: 120_000 }, () => {
  it("edits made offline survive a reload and reach another client once online, once each", async () => {
    const server = await devServer(cleanups, { schema: Entity });
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const bob = devClient(cleanups, { url: server.url, userId: "bob" });
    await bob.engine.connect();
    bob.store.review.upsert("r1", review("r1", "from bob"));

    const first = await persistedClient(cleanups, { dir: dir.path, url: server.url });
    await first.engine.connect();
    await waitUntil(() => first.store.review.has("r1"), { engines: [first.engine] }, "ann has r1");
    await first.engine.disconnect();
    // Offline: a create, a delete then re-create, an edit of bob's entity, a delete.
    first.store.comment.upsert("a", comment("a", { body: "offline" }, 10));
    first.store.comment.upsert("b", comment("b"));
    first.store.comment.delete("b");
    first.store.comment.upsert("b", comment("b", { body: "b again" }, 11));
    first.store.review.upsert("r1", review("r1", "edited by ann", Date.now()));
    first.store.comment.upsert("gone", comment("gone"));
    first.store.comment.delete("gone");
    const queued = first.engine.getOfflineQueueSize();
    expect(queued).toBeGreaterThan(0);
    await first.engine.whenPersisted();
    await first.persistence.flush();
    await first.close();

    const second = await persistedClient(cleanups, { dir: dir.path, url: server.url });
    await second.engine.whenLoaded();
    expect(second.engine.getOfflineQueueSize()).toBe(queued);
    expect(second.store.comment.findById("b")?.data.body).toBe("b again");
    const received: string[] = [];
    bob.engine.on("change", (change) => received.push(`${change.operation}:${change.entityId}`));
    await second.engine.connect();
    const done = () =>
      second.engine.getOfflineQueueSize() === 0 &&
      bob.store.comment.length === 2 &&
      bob.store.review.findById("r1")?.data.title === "edited by ann" &&
      canonical(bob.store.entities().sort((x, y) => (x.id < y.id ? -1 : 1))) ===
        canonical(second.store.entities().sort((x, y) => (x.id < y.id ? -1 : 1)));
    await waitUntil(
      done,
      { engines: [second.engine, bob.engine], stores: [bob.store] },
      "converged",
    );
    expect(bob.store.comment.findById("a")?.data.body).toBe("offline");
    expect(bob.store.comment.has("gone")).toBe(false);
    // Each change reaches bob once, in the order ann made it (no duplicate from a resend after the reload).
    expect(received).toEqual([
      "upsert:a",
      "upsert:b",
      "delete:b",
      "upsert:b",
      "upsert:r1",
      "upsert:gone",
      "delete:gone",
    ]);
  });
});
