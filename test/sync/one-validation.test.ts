// One validation where data enters: a schema that counts its calls proves that a user's write, a
// database read and a server's change are each validated once, and that the store, the flush
// target, the database and the sync engine pass the validated, frozen entity on.
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { describe, expect, it } from "vitest";
import { comment, Entity } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, tempDir, waitUntil } from "../server/helpers.js";
import { persistedClient } from "../support/persisted-client.js";

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

async function countedClient(url: string, userId: string, dir: string) {
  const counter = countingSchema();
  const client = await persistedClient(cleanups, { dir, url, userId, schema: counter.schema });
  await client.engine.connect();
  return { counter, ...client };
}

describe("one validation per entity per entry point", { timeout: 120_000 }, () => {
  it("a write validates once in the writer, once on the server, once in each receiver; a reload once per row", async () => {
    const serverSchema = countingSchema();
    const server = await devServer(cleanups, { schema: serverSchema.schema });
    const dirs = [tempDir(), tempDir()];
    for (const dir of dirs) cleanups.push(() => dir.remove());
    const ann = await countedClient(server.url, "ann", dirs[0]!.path);
    const bob = await countedClient(server.url, "bob", dirs[1]!.path);
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
    await bob.close();
    const again = countingSchema();
    const { store, engine } = await persistedClient(cleanups, {
      dir: dirs[1]!.path,
      url: server.url,
      userId: "bob",
      schema: again.schema,
    });
    await engine.whenLoaded();
    expect(store.comment.length).toBe(21);
    expect(again.calls).toBe(21);
  });
});
