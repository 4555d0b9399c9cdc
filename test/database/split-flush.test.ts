// A flush split into batches by `maxBatchSize` writes entities in last-write order, while their
// outbox deltas were recorded in first-write order: at every commit point, an entity row holding
// an edit the server has not confirmed must have its outbox entry committed with it or before,
// or a crash there reloads the edit as synced and it is never sent.
import { PGlite } from "@electric-sql/pglite";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import type { BackupContent } from "../../src/database/backup-format.js";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { SYNC_OUTBOX } from "../../src/database/sql.js";
import { comment, Entity, outboxUpsert } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, waitUntil } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";
import { persistedClient } from "../support/persisted-client.js";
import { pausedFlushDatabase } from "./helpers.js";

const cleanups = cleanupAfterEach();

/** What each commit point holds, as a backup of the database right after it. */
function recordCommitPoints(db: FrontendDatabase<Entity>, afterCommit?: (n: number) => void) {
  const points: Blob[] = [];
  const applyChanges = db.applyChanges.bind(db);
  db.applyChanges = async (changes) => {
    await applyChanges(changes);
    points.push(await db.backup());
    afterCommit?.(points.length);
  };
  return points;
}

/** The edited entities a reload of this commit point would show as synced: there must be none. */
async function editsWithoutOutbox(point: Blob): Promise<string[]> {
  const content = JSON.parse(await point.text()) as BackupContent;
  const pending = new Set(
    content.sync!.outbox.map((row) => (row.entry as { entityId: string }).entityId),
  );
  return content.entities
    .filter(
      (row) =>
        (row.entity as { data: { body?: string } }).data.body !== "synced" && !pending.has(row.id),
    )
    .map((row) => row.id);
}

/** A client of `url` on memory://, its `ids` created and acknowledged, then offline. */
async function syncedClient(
  url: string,
  ids: readonly string[],
  maxBatchSize: number,
  roomId = "room",
) {
  const client = await persistedClient(cleanups, {
    dir: "memory://",
    url,
    roomId,
    persist: { maxBatchSize },
  });
  await client.engine.connect();
  for (const id of ids) client.store.comment.upsert(id, comment(id, { body: "synced" }));
  await waitUntil(
    () => client.engine.getOfflineQueueSize() === 0,
    { engines: [client.engine] },
    "the acks",
  );
  await client.engine.whenPersisted();
  await client.persistence.flush();
  await client.engine.disconnect();
  return client;
}

/** Edits every entity `rounds` times, each round in the order `orders[round]` gives. */
function edit(client: { store: ReturnType<typeof KalphiteStore<typeof Entity>> }, ids: string[][]) {
  ids.forEach((order, round) => {
    for (const id of order)
      client.store.comment.upsert(id, comment(id, { body: `${id}@${round}` }));
  });
}

describe("a flush split by maxBatchSize", { timeout: 120_000 }, () => {
  it("commits no edited entity row without its outbox entry, and reloads after the first batch with every committed edit pending", async () => {
    const server = await devServer(cleanups);
    const ids = Array.from({ length: 12 }, (_, i) => `c${i}`);
    const client = await syncedClient(server.url, ids, 3);
    const points = recordCommitPoints(client.db);
    // Outbox deltas in the order c0..c11, entity rows in the order c11..c0.
    edit(client, [ids, [...ids].reverse()]);
    await client.persistence.flush();
    await client.engine.whenPersisted();
    expect(points.length).toBeGreaterThan(1);
    for (const point of points) expect(await editsWithoutOutbox(point)).toEqual([]);

    // A crash right after the first batch: reload what it committed.
    const db = new FrontendDatabase({ dbName: "memory://", schema: Entity });
    cleanups.push(() => db.close());
    await db.restore(points[0]!);
    const store = KalphiteStore(Entity);
    const persistence = await persist(store, db);
    cleanups.push(() => persistence.stop());
    const { engine } = devClient(cleanups, { store, database: db });
    await engine.whenLoaded();
    const outbox = new Set(engine.getOutbox().map((entry) => entry.entityId));
    const edited = ids.filter((id) => store.comment.findById(id)?.data.body !== "synced");
    expect(edited.length).toBeGreaterThan(0);
    for (const id of edited) expect(outbox.has(id), id).toBe(true);
  });

  it("a batch refused after it took its deltas puts them back as they were: none waits for a row already committed, and the retry commits everything", async () => {
    const server = await devServer(cleanups);
    const ids = Array.from({ length: 9 }, (_, i) => `c${i}`);
    const client = await syncedClient(server.url, ids, 2);
    // The second batch's write fails once, inside its transaction (its deltas were taken).
    let armed = false;
    let refused = 0;
    const query = PGlite.prototype.query;
    const spy = vi.spyOn(PGlite.prototype, "query").mockImplementation(function (
      this: PGlite,
      ...args: Parameters<PGlite["query"]>
    ) {
      if (armed && String(args[0]).includes(`insert into ${SYNC_OUTBOX}`)) {
        armed = false;
        refused++;
        return Promise.reject(new Error("disk unplugged"));
      }
      return query.apply(this, args) as never;
    });
    cleanups.push(() => spy.mockRestore());
    const points = recordCommitPoints(client.db, (n) => {
      if (n === 1) armed = true;
    });
    edit(client, [ids, [...ids].reverse(), ids.filter((_, i) => i % 2 === 1)]);
    // The refused batch stays queued and is retried (by the engine, or by flushing again).
    await client.persistence.flush().catch(() => client.persistence.flush());
    await client.engine.whenPersisted();
    expect(refused).toBe(1);
    for (const point of points) expect(await editsWithoutOutbox(point)).toEqual([]);
    const state = await client.db.syncState("room").load();
    expect(new Set(state?.outbox.map((entry) => entry.entityId))).toEqual(new Set(ids));
  });

  it("property: any edit order and batch size, every commit point reloads no edit as synced", async () => {
    const server = await devServer(cleanups);
    const ids = Array.from({ length: 6 }, (_, i) => `c${i}`);
    let room = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.shuffledSubarray(ids, { minLength: 1 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 4 }),
        async (rounds, maxBatchSize) => {
          const client = await syncedClient(server.url, ids, maxBatchSize, `room-${room++}`);
          const points = recordCommitPoints(client.db);
          edit(client, rounds);
          await client.persistence.flush();
          await client.engine.whenPersisted();
          for (const point of points) expect(await editsWithoutOutbox(point)).toEqual([]);
          await client.close();
        },
      ),
      { numRuns: 4 },
    );
  });

  it("a shown version taken ahead of its entity row is stored with its entity (the row does not hold it yet)", async () => {
    // This test plays the flush engine's part.
    const { db, state } = await pausedFlushDatabase(cleanups);
    const x = comment("x", { body: "the server's" });
    const y = comment("y", { body: "mine" });
    // A remote version of x, then a local write of y; y's row is flushed first.
    state.record(
      {
        kind: "version",
        shown: true,
        version: { entityType: "comment", entityId: "x", entity: x, vector: { bob: 1 }, seq: 1 },
      },
      { entityType: "comment", entityId: "x" },
    );
    const entry = outboxUpsert(y);
    state.record({ kind: "outbox-add", entry }, { entityType: "comment", entityId: "y" });
    await db.applyChanges([
      { operation: "upsert", entityType: "comment", entityId: "y", entity: y, timestamp: 1 },
    ]);
    expect((await db.getByType("comment")).map((c) => c.id)).toEqual(["y"]);
    const loaded = await state.load();
    expect(loaded?.outbox.map((e) => e.messageId)).toEqual(["m-y"]);
    expect(loaded?.versions.find((v) => v.entityId === "x")?.entity).toEqual(x);
  });
});
