// A reader further behind than the room has entities (a laptop back after a month of edits of
// the same comments) joins by the room's latest versions, not by replaying every edit since;
// a fetch and a reader only a little behind go on by entries.
import { describe, expect, it } from "vitest";
import { decideChange, type IncomingChange } from "../../src/server/conflict.js";
import { readCatchUp } from "../../src/server/hub/catch-up.js";
import { memoryStorage, pgliteStorage, type SyncStorage } from "../../src/server/index.js";
import { type Comment, comment } from "../fixtures/schema.js";
import { devClient } from "../support/dev-client.js";
import { cleanupAfterEach, devServer, uniqueName } from "./helpers.js";

const decide = (change: IncomingChange, current: Parameters<typeof decideChange>[0]) =>
  decideChange(current, change, (e) => e);

/** `count` edits of entities c0..c(entities-1) in turn, from message number `from`. */
async function edit(
  storage: SyncStorage,
  room: string,
  entities: number,
  from: number,
  count: number,
) {
  const changes: IncomingChange[] = [];
  for (let i = from; i < from + count; i++) {
    const id = `c${i % entities}`;
    changes.push({
      messageId: `w-${i}`,
      userId: "bob",
      timestamp: 1_000 + i,
      operation: "upsert",
      entityType: "comment",
      entityId: id,
      entity: comment(id, { body: `edit ${i}` }, 1_000 + i),
      vector: {},
      strategy: "last-write-wins",
    });
  }
  for (let start = 0; start < changes.length; start += 250)
    await storage.commit(room, changes.slice(start, start + 250), decide);
}

const FRAME = 256 * 1024;

describe.each([
  ["memory", async () => memoryStorage()],
  ["pglite", () => pgliteStorage()],
] as const)("a join far behind (%s storage)", (_name, open) => {
  it("gets the room's latest versions when more entries than entities follow its cursor", async () => {
    const storage = await open();
    try {
      const room = uniqueName("room");
      await edit(storage, room, 20, 0, 20);
      await edit(storage, room, 20, 20, 600);
      expect(await storage.entityCount(room)).toBe(20);
      expect(await storage.entityCount(room, 5)).toBe(5);

      const joined = await readCatchUp(storage, room, { after: 20 }, FRAME, true);
      expect(joined.entries).toBeUndefined();
      expect(joined.head).toBe(620);
      expect(joined.snapshotTotal).toBe(20);
      const bodies = Object.fromEntries(
        (joined.snapshot ?? []).map((v) => [v.entityId, (v.entity as Comment).data.body]),
      );
      expect(bodies).toEqual(
        Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`c${i}`, `edit ${600 + i}`])),
      );

      // A fetch goes on by entries (a paged catch-up is not restarted as a snapshot) ...
      const fetched = await readCatchUp(storage, room, { after: 20 }, FRAME);
      expect(fetched.snapshot).toBeUndefined();
      expect(fetched.entries?.[0]?.seq).toBe(21);
      // ... and so does a join at most one read (500 entries) behind.
      const near = await readCatchUp(storage, room, { after: 120 }, FRAME, true);
      expect(near.snapshot).toBeUndefined();
      expect(near.entries?.[0]?.seq).toBe(121);
    } finally {
      await storage.close();
    }
  }, 60_000);
});

describe("a client back after many edits", () => {
  const cleanups = cleanupAfterEach();

  it("catches up by snapshot, keeps its offline writes and sends each once", async () => {
    const storage = memoryStorage();
    const server = await devServer(cleanups, { storage });
    const room = uniqueName("room");
    await edit(storage, room, 20, 0, 20);
    const ann = devClient(cleanups, { url: server.url, roomId: room });
    const snapshots: boolean[] = [];
    ann.engine.on("snapshot", (progress) => snapshots.push(progress.done));
    await ann.engine.connect();
    await expect.poll(() => ann.store.comment.length).toBe(20);
    ann.engine.disconnect();

    // While Ann is away: 2,000 edits of the same 20 comments; and her own offline writes.
    await edit(storage, room, 20, 20, 2_000);
    ann.store.comment.upsert("mine", comment("mine", { body: "written offline" }, 5_000));
    ann.store.comment.upsert("c3", comment("c3", { body: "ann's edit" }, 9_000));
    snapshots.length = 0;

    await ann.engine.connect();
    await expect.poll(() => ann.engine.status.value, { timeout: 10_000 }).toBe("synced");
    expect(snapshots).toContain(true);
    expect(ann.engine.getCursor()).toBe(2_022);
    const expected: Record<string, string> = { mine: "written offline", c3: "ann's edit" };
    for (let i = 0; i < 20; i++) expected[`c${i}`] ??= `edit ${2_000 + i}`;
    const shown = Object.fromEntries(ann.store.comment.map((c) => [c.id, c.data.body]));
    expect(shown).toEqual(expected);
    const { versions } = await storage.snapshot(room);
    expect(
      Object.fromEntries(versions.map((v) => [v.entityId, (v.entity as Comment).data.body])),
    ).toEqual(expected);
    // Each offline write reached the log once.
    const mine = (await storage.entriesAfter(room, 2_020, 100)).filter((e) => e.userId === "ann");
    expect(mine.map((e) => e.entityId).sort()).toEqual(["c3", "mine"]);
  }, 60_000);
});
