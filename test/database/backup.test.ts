// The sync tables in a backup (format version 2), without a server: rows recorded through
// db.syncState(room), backed up, restored into a fresh database, and refused when malformed.
import { describe, expect, it } from "vitest";
import { FrontendDatabase } from "../../src/database/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { emptyBackup, sharedMemoryDatabase } from "./helpers.js";

const db = sharedMemoryDatabase();

const entry = (room: string, n: number) => ({
  messageId: `${room}-m${n}`,
  entityType: "comment",
  entityId: `c${n}`,
  entity: comment(`c${n}`),
});

/** Records two rooms' sync state: cursors, limits, outboxes in order, a version of each kind. */
async function recordSyncState(into: FrontendDatabase<Entity>): Promise<void> {
  for (const room of ["a", "b"]) {
    const state = into.syncState(room);
    // Added in an order unlike their message ids: the outbox must keep this order.
    for (const n of [3, 1, 2]) state.record({ kind: "outbox-add", entry: entry(room, n) });
    state.record({ kind: "outbox-remove", messageId: `${room}-m1` });
    state.record({ kind: "cursor", cursor: room === "a" ? 41 : 7 });
    state.record({ kind: "limits", limits: { maxMessageBytes: 1000, maxDepth: 8 } });
    state.record({
      kind: "version",
      version: {
        entityType: "comment",
        entityId: "c9",
        entity: comment("c9"),
        vector: { ann: 2 },
        seq: 5,
      },
      shown: true,
    });
    state.record({
      kind: "version",
      version: { entityType: "comment", entityId: "gone", entity: null, vector: {}, seq: 6 },
      shown: false,
    });
    await state.flush();
  }
}

const v2 = (sync: unknown) =>
  new Blob([
    JSON.stringify({
      format: "kalphite-backup",
      formatVersion: 2,
      schemaVersion: 0,
      createdAt: 0,
      meta: {},
      entities: [],
      sync,
    }),
  ]);

describe("backup of the sync state", () => {
  it("round-trips every room's cursor, limits, outbox (in order) and versions", async () => {
    await db.upsert("comment", "c9", comment("c9"));
    await recordSyncState(db);
    const before = [await db.syncState("a").load(), await db.syncState("b").load()];
    expect(before[0]?.outbox.map((e) => e.messageId)).toEqual(["a-m3", "a-m2"]);
    const blob = await db.backup();
    expect(JSON.parse(await blob.text()).formatVersion).toBe(2);

    const fresh = new FrontendDatabase<Entity>({ dbName: "memory://", schema: Entity });
    try {
      // What the fresh database held is replaced.
      fresh.syncState("stale").record({ kind: "cursor", cursor: 3 });
      await fresh.syncState("stale").flush();
      await fresh.restore(blob);
      expect([await fresh.syncState("a").load(), await fresh.syncState("b").load()]).toEqual(
        before,
      );
      expect(await fresh.syncState("stale").load()).toBeUndefined();
      expect(await fresh.getById("comment", "c9")).toEqual(comment("c9"));
      // A restored outbox keeps growing after its restored entries.
      fresh.syncState("a").record({ kind: "outbox-add", entry: entry("a", 0) });
      await fresh.syncState("a").flush();
      expect((await fresh.syncState("a").load())?.outbox.map((e) => e.messageId)).toEqual([
        "a-m3",
        "a-m2",
        "a-m0",
      ]);
    } finally {
      await fresh.close();
    }
  });

  it("restores a version 1 backup (no sync tables) with the sync tables emptied", async () => {
    await recordSyncState(db);
    await db.restore(emptyBackup());
    expect(await db.syncState("a").load()).toBeUndefined();
    expect(await db.syncState("b").load()).toBeUndefined();
  });

  const bad: [string, Blob, RegExp][] = [
    ["a version 2 backup without sync", v2(undefined), /sync is missing/],
    ["sync without its outbox", v2({ rooms: [], versions: [] }), /sync\.outbox is missing/],
    [
      "a malformed room row",
      v2({ rooms: [{ room: "a", cursor: -1, limits: null }], outbox: [], versions: [] }),
      /sync\.rooms row 0 is malformed/,
    ],
    [
      "a malformed outbox row",
      v2({ rooms: [], outbox: [{ room: "a", messageId: 1, entry: {} }], versions: [] }),
      /sync\.outbox row 0 is malformed/,
    ],
    [
      "a malformed version row",
      v2({
        rooms: [],
        outbox: [],
        versions: [{ room: "a", type: "comment", id: "c", vector: {}, seq: 1, entity: null }],
      }),
      /sync\.versions row 0 is malformed/,
    ],
    [
      "an unknown format version",
      new Blob([JSON.stringify({ format: "kalphite-backup", formatVersion: 3 })]),
      /format version 3 is not supported/,
    ],
    [
      // Passes the checks, fails in the transaction (one message id twice): rolled back.
      "an outbox with a message id twice",
      v2({
        rooms: [],
        outbox: [
          { room: "a", messageId: "m", entry: entry("a", 1) },
          { room: "a", messageId: "m", entry: entry("a", 2) },
        ],
        versions: [],
      }),
      /Restoring the backup \(the database was left as it was\) failed/,
    ],
  ];
  for (const [name, blob, message] of bad) {
    it(`refuses ${name} and leaves the sync state as it was`, async () => {
      await recordSyncState(db);
      const before = await db.syncState("a").load();
      await expect(db.restore(blob)).rejects.toThrow(message);
      expect(await db.syncState("a").load()).toEqual(before);
    });
  }
});
