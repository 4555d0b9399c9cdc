// A local write made with chosen message ids (the leader tab's, for a follower's changes) goes
// into the outbox under them, also while the saved state loads; a write made meanwhile by a
// listener gets an id of its own.
import { expect, it } from "vitest";
import { applyWithMessageIds } from "../../src/sync/chosen-message-ids.js";
import { memoryPersistence } from "../../src/sync/index.js";
import { comment } from "../fixtures/schema.js";
import { cleanupAfterEach } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";

const cleanups = cleanupAfterEach();

it("the outbox holds each change under its chosen id, and a listener's write under a new one", async () => {
  const { store, engine } = devClient(cleanups, { roomId: "r" });
  await engine.whenLoaded();
  // A listener that writes the same entity again, within the write.
  store.onChange((change) => {
    const entity = change.entity;
    if (entity?.type === "comment" && entity.id === "c1" && entity.data.body === "first")
      store.comment.upsert("c1", comment("c1", { body: "the listener's" }, 2));
  });
  applyWithMessageIds(
    store,
    [
      {
        operation: "upsert",
        entityType: "comment",
        entityId: "c1",
        entity: comment("c1", { body: "first" }),
      },
      { operation: "upsert", entityType: "comment", entityId: "c2", entity: comment("c2") },
    ],
    ["tab:1:0", "tab:1:1"],
  );
  store.comment.upsert("c3", comment("c3"));
  const ids = engine.getOutbox().map((entry) => [entry.entityId, entry.messageId]);
  expect(ids.slice(0, 2)).toEqual([
    ["c1", "tab:1:0"],
    ["c1", expect.not.stringMatching(/^tab:/)],
  ]);
  expect(ids.slice(2)).toEqual([
    ["c2", "tab:1:1"],
    ["c3", expect.not.stringMatching(/^tab:/)],
  ]);
});

it("a change with a chosen id made while the saved state loads goes into the outbox under it", async () => {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const inner = memoryPersistence();
  const { store, engine } = devClient(cleanups, {
    roomId: "r",
    persistence: {
      load: async () => {
        await held;
        return inner.load();
      },
      record: (delta, entity) => inner.record(delta, entity),
      flush: () => inner.flush(),
    },
  });
  const c1 = comment("c1");
  applyWithMessageIds(
    store,
    [{ operation: "upsert", entityType: "comment", entityId: "c1", entity: c1 }],
    ["tab:1:0"],
  );
  store.comment.upsert("c2", comment("c2"));
  release();
  await engine.whenLoaded();
  const ids = engine.getOutbox().map((entry) => [entry.entityId, entry.messageId]);
  expect(ids).toEqual([
    ["c1", "tab:1:0"],
    ["c2", expect.not.stringMatching(/^tab:/)],
  ]);
});
