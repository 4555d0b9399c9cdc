// One behavioural suite for the entity database (FrontendDatabase), run over each place it can
// keep its data in Node: memory:// and a data directory. (idb:// runs in the browser tests.)
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import {
  KalphitePersistenceError,
  KalphiteStore,
  KalphiteUsageError,
  KalphiteValidationError,
} from "../../src/index.js";
import { emptyBackup, tempDirs } from "../database/helpers.js";
import { comment, Entity, review } from "../fixtures/schema.js";

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

/** Where a database keeps its data; `durable` ones can be closed and opened again. */
const variants: [string, () => { dbName: string; durable: boolean }][] = [
  ["memory://", () => ({ dbName: "memory://", durable: false })],
  ["a data directory", () => ({ dbName: dirs.make(), durable: true })],
];

const open = (dbName: string) => new FrontendDatabase<Entity>({ dbName, schema: Entity });

describe.each(variants)("FrontendDatabase contract: %s", (_name, variant) => {
  const { dbName, durable } = variant();
  let db: FrontendDatabase<Entity>;
  beforeAll(async () => {
    db = open(dbName);
    await db.init();
  }, 120_000);
  afterAll(() => db.close());
  beforeEach(() => db.restore(emptyBackup()));

  it("upserts, reads by id and by type, queries, and deletes", async () => {
    await db.upsert("comment", "c1", comment("c1", { lineNumber: 3 }));
    await db.upsert("comment", "c2", comment("c2", { lineNumber: 1, status: "resolved" }));
    await db.upsert("review", "c1", review("c1")); // ids are unique within a type only
    await db.upsert("comment", "c1", comment("c1", { lineNumber: 3, body: "edited" }, 2));
    expect(await db.getById("comment", "c1")).toEqual(
      comment("c1", { lineNumber: 3, body: "edited" }, 2),
    );
    expect(await db.getById("review", "c1")).toEqual(review("c1"));
    expect(await db.getById("comment", "nope")).toBeUndefined();
    expect((await db.getByType("comment")).map((c) => c.id)).toEqual(["c1", "c2"]);
    const byLine = await db.query("comment", undefined, (c: any) => c.data.lineNumber);
    expect(byLine.map((c) => c.id)).toEqual(["c2", "c1"]);
    const open = await db.query("comment", (c: any) => c.data.status === "open");
    expect(open.map((c) => c.id)).toEqual(["c1"]);
    expect(await db.delete("comment", "c1")).toBe(true);
    expect(await db.delete("comment", "c1")).toBe(false);
    expect((await db.entities()).map((e) => `${e.type}/${e.id}`).sort()).toEqual([
      "comment/c2",
      "review/c1",
    ]);
  });

  it("refuses an entity its schema rejects, writing nothing", async () => {
    await expect(
      db.upsert("comment", "c1", { id: "c1", type: "comment" } as never),
    ).rejects.toThrow(KalphiteValidationError);
    await expect(db.upsert("review", "c1", comment("c1"))).rejects.toThrow(/review/);
    expect(await db.getByType("comment")).toEqual([]);
  });

  it("applies a batch of changes all or nothing, the last change to an entity winning", async () => {
    await db.applyChanges([
      {
        operation: "upsert",
        entityType: "comment",
        entityId: "c1",
        entity: comment("c1"),
        timestamp: 1,
      },
      {
        operation: "upsert",
        entityType: "comment",
        entityId: "c2",
        entity: comment("c2"),
        timestamp: 1,
      },
      { operation: "delete", entityType: "comment", entityId: "c2", timestamp: 2 },
      {
        operation: "upsert",
        entityType: "comment",
        entityId: "c1",
        entity: comment("c1", { body: "last" }, 2),
        timestamp: 2,
      },
    ]);
    expect(await db.getByType("comment")).toEqual([comment("c1", { body: "last" }, 2)]);
    const refused = await db
      .applyChanges([
        { operation: "delete", entityType: "comment", entityId: "c1", timestamp: 3 },
        {
          operation: "upsert",
          entityType: "comment",
          entityId: "c3",
          entity: comment("c3"),
          timestamp: 3,
        },
        {
          operation: "upsert",
          entityType: "comment",
          entityId: "bad",
          entity: { id: "bad", type: "comment" } as never,
          timestamp: 3,
        },
      ])
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KalphiteValidationError);
    expect((await db.getByType("comment")).map((c) => c.id)).toEqual(["c1"]);
  });

  it("keeps metadata by key as JSON", async () => {
    await db.setMeta("sync:cursor", 42);
    await db.setMeta("app:prefs", { theme: "dark", recent: [1, 2] });
    expect(await db.getMeta("sync:cursor")).toBe(42);
    expect(await db.getMeta("app:prefs")).toEqual({ theme: "dark", recent: [1, 2] });
    expect(await db.deleteMeta("sync:cursor")).toBe(true);
    expect(await db.getMeta("sync:cursor")).toBeUndefined();
    await expect(db.setMeta("kalphite:schemaVersion", 3)).rejects.toThrow(KalphiteUsageError);
  });

  it("backs up to a Blob that a fresh database (in memory) restores", async () => {
    await db.upsert("comment", "c1", comment("c1"));
    await db.upsert("review", "r1", review("r1"));
    await db.setMeta("sync:cursor", 7);
    const blob = await db.backup();
    expect(blob).toBeInstanceOf(Blob);
    const fresh = open("memory://");
    try {
      await fresh.restore(blob);
      expect(await fresh.getById("comment", "c1")).toEqual(comment("c1"));
      expect(await fresh.getById("review", "r1")).toEqual(review("r1"));
      expect(await fresh.getMeta("sync:cursor")).toBe(7);
    } finally {
      await fresh.close();
    }
  });

  it("with persist(): a store's writes are committed at flush(), and a new store hydrates them", async () => {
    const first = KalphiteStore(Entity);
    const writing = await persist(first, db);
    first.comment.upsert("c1", comment("c1"));
    first.review.upsert("r1", review("r1"));
    first.comment.delete("c1");
    first.comment.upsert("c2", comment("c2", { body: "kept" }));
    await writing.flush();
    await writing.stop();
    const second = KalphiteStore(Entity);
    const reading = await persist(second, db);
    expect(reading.hydrated).toBe(2);
    expect(second.entities()).toEqual(expect.arrayContaining(first.entities()));
    expect(second.comment.findById("c1")).toBeUndefined();
    await reading.stop();
  });

  // Only for the kinds that keep data (registered only there, not skipped elsewhere).
  if (durable) {
    it("keeps entities and metadata after close, and one process holds it at a time", async () => {
      await db.upsert("comment", "c1", comment("c1", { body: "durable" }));
      await db.setMeta("sync:cursor", 9);
      const second = await open(dbName)
        .init()
        .catch((error: unknown) => error);
      expect(second).toBeInstanceOf(KalphitePersistenceError);
      expect((second as Error).message).toMatch(/in use by process/);
      await db.close();
      db = open(dbName);
      expect(await db.getById("comment", "c1")).toEqual(comment("c1", { body: "durable" }));
      expect(await db.getMeta("sync:cursor")).toBe(9);
    }, 120_000);
  }
});
