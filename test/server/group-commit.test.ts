// Group commit batches across connections whatever the storage: changes from 100 connections
// that arrive together share a few transactions, not one each (PGlite's commits never yield to
// the event loop, so without a turn before each commit every socket read got its own).
import { describe, expect, it } from "vitest";
import { memoryStorage, pgliteStorage, type SyncStorage } from "../../src/server/index.js";
import { comment } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, envelope, rawClient, uniqueName } from "./helpers.js";

const cleanups = cleanupAfterEach();

/** A storage that counts its commits and the changes in each. */
function counting(inner: SyncStorage): SyncStorage & { batches: number[] } {
  const batches: number[] = [];
  return {
    ...inner,
    batches,
    commit(room, changes, decide) {
      batches.push(changes.length);
      return inner.commit(room, changes, decide);
    },
  };
}

describe.each([
  ["pglite", () => pgliteStorage()],
  ["memory", async () => memoryStorage()],
])("group commit on %s", (_name, create) => {
  it("100 changes from 100 connections arriving together take a few commits", async () => {
    const inner = await create();
    cleanups.push(() => inner.close());
    const storage = counting(inner);
    const server = await devServer(cleanups, { storage });
    const room = uniqueName("room");
    const clients = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const client = await rawClient(server.url);
        cleanups.push(() => client.close());
        client.send(
          envelope("hello", { protocol: 1, roomId: room, token: "", cursor: 0 }, `u${i}`),
        );
        await client.next((m) => m.type === "welcome", "welcome");
        return client;
      }),
    );
    storage.batches.length = 0;
    for (const [i, client] of clients.entries())
      client.send(
        envelope(
          "change",
          {
            operation: "upsert",
            entityType: "comment",
            entityId: `c${i}`,
            entity: comment(`c${i}`),
            vector: {},
          },
          `u${i}`,
          `m${i}`,
        ),
      );
    await Promise.all(
      clients.map((client, i) =>
        client.next((m) => m.type === "ack" && m.payload.ackedId === `m${i}`, `ack ${i}`),
      ),
    );
    expect(storage.batches.reduce((n, b) => n + b, 0)).toBe(100);
    expect(storage.batches.length).toBeLessThanOrEqual(10);
  }, 60_000);
});
