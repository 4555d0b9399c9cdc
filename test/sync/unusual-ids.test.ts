// Entity ids are any non-empty string: control characters included. The client must never
// rebuild a (type, id) pair from an internal key, since such an id can contain its separator.
import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import { createSyncServer, memoryStorage, signToken } from "../../src/server/index.js";
import { memoryPersistence, type SyncPersistence } from "../../src/sync/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { cleanupAfterEach, SECRET, withTimeout } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";

const cleanups = cleanupAfterEach();

/** The unit separator the protocol's keys use, and the id's prefix on its own. */
const ODD = "c\u001f1";
const PREFIX = "c";

async function server() {
  const s = await createSyncServer({
    port: 0,
    host: "127.0.0.1",
    storage: memoryStorage(),
    secret: SECRET,
  });
  cleanups.push(() => s.close());
  return s;
}

function client(url: string, userId: string, persistence?: SyncPersistence) {
  const store = KalphiteStore(Entity);
  const engine = devClient(cleanups, {
    url: url,
    roomId: "r",
    userId,
    authToken: signToken({ userId }, SECRET),
    store,
    ...(persistence ? { persistence } : {}),
  }).engine;
  return { store, engine };
}

describe("an id containing U+001F", () => {
  it("arrives intact in a first join's snapshot, and a snapshot without it removes it", async () => {
    const first = await server();
    const ann = client(first.url, "ann");
    await ann.engine.connect();
    const acked = new Promise<void>((resolve) => {
      let count = 0;
      ann.engine.on("ack", () => ++count === 2 && resolve());
    });
    ann.store.comment.upsert(ODD, comment(ODD, { body: "odd" }));
    ann.store.comment.upsert(PREFIX, comment(PREFIX, { body: "prefix" }));
    await withTimeout(acked, 10_000, "both acks");

    // A first join is caught up with a snapshot of the latest versions.
    const persistence = memoryPersistence();
    const bob = client(first.url, "bob", persistence);
    await withTimeout(bob.engine.connect(), 10_000, "bob to join");
    expect(bob.store.comment).toHaveLength(2);
    expect(Object.fromEntries(bob.store.comment.map((c) => [c.id, c.data.body]))).toEqual({
      [ODD]: "odd",
      [PREFIX]: "prefix",
    });
    expect(bob.store.comment.findById(ODD)).toEqual(comment(ODD, { body: "odd" }));
    await bob.engine.destroy();

    // Bob comes back to a reset server (its cursor is past the head): the snapshot is empty, so
    // both entities the old server confirmed go, the odd one too.
    const reset = await server();
    const again = client(reset.url, "bob", persistence);
    await withTimeout(again.engine.connect(), 10_000, "bob to rejoin");
    expect(again.store.comment.map((c) => c.id)).toEqual([]);
  });
});
