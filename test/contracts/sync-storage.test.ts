// One contract suite run against every SyncStorage: memory, PGlite (in memory and in a data
// directory), PostgreSQL.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideChange, type IncomingChange } from "../../src/server/conflict.js";
import {
  memoryStorage,
  pgliteStorage,
  postgresStorage,
  type SyncStorage,
} from "../../src/server/index.js";
import { comment } from "../fixtures/schema.js";
import { POSTGRES_URL } from "../support/postgres.js";
import { uniqueName } from "../support/unique-name.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "kalphite-storage-"));
  dirs.push(dir);
  return join(dir, "server");
}

/**
 * A storage to test: `open()` gives a new one; for a durable kind, `open()` again (after the
 * first is closed) opens the same data.
 */
interface Variant {
  open(): Promise<SyncStorage>;
  durable: boolean;
}

const variants: [string, () => Variant][] = [
  ["memory", () => ({ open: async () => memoryStorage(), durable: false })],
  [
    "pglite",
    () => ({
      open: () => pgliteStorage({ tablePrefix: `${uniqueName("p").toLowerCase()}_` }),
      durable: false,
    }),
  ],
  [
    "pglite (data directory)",
    () => {
      const dir = dataDir();
      return { open: () => pgliteStorage({ dataDir: dir }), durable: true };
    },
  ],
  [
    "postgres",
    () => {
      const tablePrefix = `${uniqueName("s").toLowerCase()}_`;
      return { open: () => postgresStorage({ url: POSTGRES_URL, tablePrefix }), durable: true };
    },
  ],
];

const decide = (change: IncomingChange, current: Parameters<typeof decideChange>[0]) =>
  decideChange(current, change, (e) => e);

function upsert(
  messageId: string,
  userId: string,
  id: string,
  body: string,
  vector: Record<string, number> = {},
): IncomingChange {
  return {
    messageId,
    userId,
    timestamp: 1,
    operation: "upsert",
    entityType: "comment",
    entityId: id,
    entity: comment(id, { body }),
    vector,
    strategy: "last-write-wins",
  };
}

describe.each(variants)("SyncStorage contract: %s", (_name, variant) => {
  const kind = variant();
  let storage: SyncStorage;
  beforeAll(async () => {
    storage = await kind.open();
  }, 120_000);
  afterAll(async () => {
    await storage?.close();
  });

  it("appends in order, dedupes by message id, and reports versions", async () => {
    const room = uniqueName("room");
    const heads: number[] = [];
    const stop = storage.onCommit((roomId, head) => {
      if (roomId === room) heads.push(head);
    });
    const first = await storage.commit(
      room,
      [upsert("m1", "ann", "c1", "one"), upsert("m2", "ann", "c2", "two")],
      decide,
    );
    expect(first.map((o) => o.entry?.seq)).toEqual([1, 2]);
    const again = await storage.commit(
      room,
      [upsert("m1", "ann", "c1", "one"), upsert("m3", "bob", "c1", "three", { ann: 1 })],
      decide,
    );
    expect(again[0]).toMatchObject({ duplicate: true, entry: { seq: 1 } });
    expect(again[1]?.entry).toMatchObject({ seq: 3, vector: { ann: 1, bob: 1 } });
    expect(await storage.head(room)).toBe(3);
    expect((await storage.entriesAfter(room, 1)).map((e) => e.messageId)).toEqual(["m2", "m3"]);
    const snapshot = await storage.snapshot(room);
    expect(snapshot.head).toBe(3);
    expect(snapshot.versions.find((v) => v.entityId === "c1")?.entity).toMatchObject({
      data: { body: "three" },
    });
    await new Promise<void>((resolve) =>
      heads.includes(3) ? resolve() : storage.onCommit((_r, h) => h === 3 && resolve()),
    );
    stop();
  });

  it("stores nothing for a rejected change", async () => {
    const room = uniqueName("room");
    const [outcome] = await storage.commit(
      room,
      [upsert("m1", "ann", "c1", "x", { bob: 1 })],
      decide,
    );
    expect(outcome?.rejected?.code).toBe("forged-vector");
    expect(await storage.head(room)).toBe(0);
  });

  it("announces only commits that appended entries, once each, with the new head", async () => {
    const room = uniqueName("room");
    const heads: number[] = [];
    let wake = () => {};
    const stop = storage.onCommit((roomId, head) => {
      if (roomId !== room) return;
      heads.push(head);
      wake();
    });
    await storage.commit(
      room,
      [upsert("m1", "ann", "c1", "a"), upsert("m2", "ann", "c2", "b")],
      decide,
    );
    // Only resends, only a refusal, and both: nothing appended, nothing announced.
    await storage.commit(
      room,
      [upsert("m1", "ann", "c1", "a"), upsert("m2", "ann", "c2", "b")],
      decide,
    );
    await storage.commit(room, [upsert("m3", "ann", "c1", "x", { bob: 1 })], decide);
    await storage.commit(
      room,
      [upsert("m2", "ann", "c2", "b"), upsert("m4", "ann", "c1", "y", { bob: 1 })],
      decide,
    );
    await storage.commit(room, [upsert("m5", "bob", "c3", "c")], decide);
    // PostgreSQL delivers NOTIFYs in commit order, so once head 3 is heard, all are.
    await new Promise<void>((resolve) => {
      wake = () => heads.includes(3) && resolve();
      wake();
    });
    stop();
    expect(heads).toEqual([2, 3]);
  });

  it("a message id twice in one batch is stored once", async () => {
    const room = uniqueName("room");
    const outcomes = await storage.commit(
      room,
      [upsert("m1", "ann", "c1", "a"), upsert("m1", "ann", "c1", "a")],
      decide,
    );
    expect(outcomes[0]).toMatchObject({ entry: { seq: 1 } });
    expect(outcomes[0]?.duplicate).toBeUndefined();
    expect(outcomes[1]).toMatchObject({ duplicate: true, entry: { seq: 1, messageId: "m1" } });
    expect(await storage.head(room)).toBe(1);
  });

  it("keeps entities apart whose type and id only differ in where they split", async () => {
    // Deletes are not schema-checked, so any type string reaches the storage.
    const room = uniqueName("room");
    const split = (entityType: string, entityId: string, messageId: string): IncomingChange => ({
      messageId,
      userId: "ann",
      timestamp: 1,
      operation: "delete",
      entityType,
      entityId,
      vector: {},
      strategy: "last-write-wins",
    });
    const kept = upsert("m1", "ann", "c1", "kept");
    kept.entityType = "a";
    kept.entityId = "b\u001fc";
    const outcomes = await storage.commit(room, [kept, split("a\u001fb", "c", "m2")], decide);
    expect(outcomes.map((o) => o.entry?.conflict)).toEqual([undefined, undefined]);
    await storage.commit(room, [split("a\u001fb", "c", "m3")], decide);
    const snapshot = await storage.snapshot(room);
    const byType = (t: string) => snapshot.versions.find((v) => v.entityType === t);
    expect(snapshot.versions).toHaveLength(2);
    expect(byType("a")).toMatchObject({ entityId: "b\u001fc", seq: 1, vector: { ann: 1 } });
    expect(byType("a")?.entity).toMatchObject({ data: { body: "kept" } });
    expect(byType("a\u001fb")).toMatchObject({ entityId: "c", entity: null, seq: 3 });
  });

  it("a later change in one batch sees the earlier one", async () => {
    const room = uniqueName("room");
    const outcomes = await storage.commit(
      room,
      [upsert("m1", "ann", "c1", "a"), upsert("m2", "ann", "c1", "b", { ann: 1 })],
      decide,
    );
    expect(outcomes[1]?.entry?.conflict).toBeUndefined();
    expect(outcomes[1]?.entry?.vector).toEqual({ ann: 2 });
  });

  it("reads entries and versions back exactly as it committed them (times, deletes, conflicts)", async () => {
    const room = uniqueName("room");
    const precise = {
      ...upsert("m1", "ann", "c1", 'tab\there, ünïcode, "quoted"'),
      entity: {
        ...comment("c1", { body: "x" }, 1733212345678.123),
        data: { nested: [null, { a: 0.1 + 0.2 }] },
      },
    } as IncomingChange;
    const outcomes = [
      ...(await storage.commit(room, [precise, upsert("m2", "bob", "c2", "b")], decide)),
      // Concurrent with m2 (bob's version unseen): a conflict the log records.
      ...(await storage.commit(room, [upsert("m3", "cy", "c2", "c")], decide)),
      ...(await storage.commit(
        room,
        [
          {
            messageId: "m4",
            userId: "ann",
            timestamp: 2.5,
            operation: "delete",
            entityType: "comment",
            entityId: "c1",
            vector: { ann: 1 },
            strategy: "last-write-wins",
          },
        ],
        decide,
      )),
    ];
    const entries = outcomes.map((outcome) => outcome.entry);
    expect(entries.some((entry) => entry?.conflict !== undefined)).toBe(true);
    expect(entries.some((entry) => entry?.entity === undefined)).toBe(true);
    expect(await storage.entriesAfter(room, 0)).toStrictEqual(entries);
    expect(await storage.entriesAfter(room, 2)).toStrictEqual(entries.slice(2));
    const { versions } = await storage.snapshot(room);
    expect(await storage.snapshotPage(room, { limit: 10 })).toStrictEqual(versions);
    expect(await storage.snapshotPage(room, { after: ["comment", "c1"], limit: 10 })).toStrictEqual(
      versions.slice(1),
    );
    expect(versions.map((version) => [version.entityId, version.entity === null])).toEqual([
      ["c1", true],
      ["c2", false],
    ]);
  });

  // Only for the durable kinds (registered only there, not skipped elsewhere).
  if (kind.durable)
    it("keeps what it committed across a close and a reopen, and goes on from there", async () => {
      const room = uniqueName("room");
      await storage.commit(room, [upsert("d1", "ann", "c1", "kept")], decide);
      await storage.close();
      storage = await kind.open();
      expect(await storage.head(room)).toBe(1);
      expect((await storage.snapshot(room)).versions[0]?.entity).toMatchObject({
        data: { body: "kept" },
      });
      // A resend after the restart is still a duplicate; new changes continue the sequence.
      const [again, next] = await storage.commit(
        room,
        [upsert("d1", "ann", "c1", "kept"), upsert("d2", "ann", "c2", "new")],
        decide,
      );
      expect(again).toMatchObject({ duplicate: true, entry: { seq: 1 } });
      expect(next?.entry?.seq).toBe(2);
    }, 120_000);
});
