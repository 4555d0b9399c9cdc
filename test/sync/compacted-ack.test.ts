// A resent change the server had committed and then compacted away is acknowledged with what
// stands for it now (its entity's latest entry, under another message id): the change is done.
import { describe, expect, it } from "vitest";
import { comment } from "../fixtures/schema.js";
import { cleanupAfterEach, waitUntil } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";
import { scriptedServer, welcome } from "./support/scripted-server.js";

const cleanups = cleanupAfterEach();

describe("an ack of a compacted change", { timeout: 30_000 }, () => {
  it("empties the outbox, and the store shows the entry that superseded the change", async () => {
    const latest = comment("c1", { body: "bob's later edit" }, 5);
    const server = await scriptedServer((message, connection) => {
      if (message.type === "hello") connection.send("welcome", welcome(message));
      if (message.type === "change")
        connection.send("ack", {
          ackedId: message.messageId,
          entry: {
            seq: 1,
            messageId: "bob-later",
            userId: "bob",
            timestamp: 5,
            operation: "upsert",
            entityType: "comment",
            entityId: "c1",
            entity: latest,
            vector: { ann: 1, bob: 1 },
          },
        });
    });
    cleanups.push(() => server.close());
    const { store, engine } = devClient(cleanups, { url: server.url });
    await engine.connect();
    store.comment.upsert("c1", comment("c1", { body: "ann's edit" }, 2));
    await waitUntil(() => engine.getCursor() === 1, { engines: [engine] }, "the ack applied");
    expect(engine.getOutbox()).toEqual([]);
    expect(engine.getOfflineQueueSize()).toBe(0);
    expect(store.comment.findById("c1")).toEqual(latest);
    expect(engine.status.value).toBe("synced");
  });
});
