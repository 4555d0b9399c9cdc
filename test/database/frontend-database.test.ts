import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrontendDatabase, type Migration } from "../../src/database/index.js";
import {
  KalphitePersistenceError,
  KalphiteStorageLimitError,
  KalphiteUsageError,
  type KalphiteValidationError,
} from "../../src/index.js";
import { comment, Entity, review } from "../fixtures/schema.js";
import { backupBlob, sharedMemoryDatabase } from "./helpers.js";

const db = sharedMemoryDatabase();

describe("init", () => {
  it("is idempotent, also when called concurrently", async () => {
    await Promise.all([db.init(), db.init()]);
    await db.init();
    expect(await db.getSchemaVersion()).toBe(0);
  });

  it("refuses bad configuration with a message that says what to pass", () => {
    expect(() => new FrontendDatabase({ dbName: "", schema: Entity })).toThrow(/dbName/);
    expect(() => new FrontendDatabase({ dbName: "memory://", schema: {} as any })).toThrow(
      /Standard Schema/,
    );
    expect(
      () => new FrontendDatabase({ dbName: "memory://", schema: Entity, maxStorageMB: 0 }),
    ).toThrow(/maxStorageMB/);
  });
});

describe("entities", () => {
  it("queries with a filter and an order", async () => {
    for (let i = 0; i < 6; i++) {
      await db.upsert(
        "comment",
        `c${i}`,
        comment(`c${i}`, { lineNumber: 10 - i, status: i % 2 ? "open" : "resolved" }),
      );
    }
    const open = await db.query(
      "comment",
      (c: any) => c.data.status === "open",
      (c: any) => c.data.lineNumber,
    );
    expect(open.map((c) => c.id)).toEqual(["c5", "c3", "c1"]);
    expect((await db.query("comment")).map((c) => c.id)).toEqual([
      "c0",
      "c1",
      "c2",
      "c3",
      "c4",
      "c5",
    ]);
  });
});

describe("applyChanges when Postgres refuses a row the schema accepts", () => {
  // A constraint the schema does not know (added by a migration) refuses the last row: the batch
  // fails inside the statement, after its deletes and earlier upserts ran. Without a storage
  // limit the batch is one statement (atomic on its own); with a limit it is a transaction: both
  // roll back.
  const batch = [
    { operation: "delete" as const, entityType: "comment", entityId: "keep", timestamp: 1 },
    {
      operation: "upsert" as const,
      entityType: "comment",
      entityId: "new",
      entity: comment("new"),
      timestamp: 1,
    },
    {
      operation: "upsert" as const,
      entityType: "comment",
      entityId: "refused",
      entity: comment("refused", { body: "refused" }),
      timestamp: 1,
    },
  ];
  const refuse: Migration = {
    version: 1,
    up: (db) =>
      db.exec(
        `alter table kalphite_entities add constraint no_refused check (entity->'data'->>'body' <> 'refused')`,
      ),
    down: (db) => db.exec(`alter table kalphite_entities drop constraint no_refused`),
  };
  for (const [name, maxStorageMB] of [
    ["without a storage limit", undefined],
    ["with a storage limit", 10],
  ] as const) {
    it(`writes none of the batch, ${name}`, async () => {
      const target = new FrontendDatabase<Entity>({
        dbName: "memory://",
        schema: Entity,
        migrations: [refuse],
        ...(maxStorageMB ? { maxStorageMB } : {}),
      });
      await target.upsert("comment", "keep", comment("keep"));
      const error = await target.applyChanges(batch).catch((e) => e);
      expect(error).toBeInstanceOf(KalphitePersistenceError);
      expect(error.message).toMatch(/Writing 3 change\(s\) failed/);
      expect(error.query).toMatch(/insert into kalphite_entities/);
      expect((await target.getByType("comment")).map((c) => c.id)).toEqual(["keep"]);
      // Upserts alone and deletes alone take the same path.
      await expect(target.applyChanges(batch.slice(1))).rejects.toThrow(KalphitePersistenceError);
      expect((await target.getByType("comment")).map((c) => c.id)).toEqual(["keep"]);
      await target.applyChanges(batch.slice(0, 2));
      expect((await target.getByType("comment")).map((c) => c.id)).toEqual(["new"]);
      await target.close();
    });
  }
});

describe("reading", () => {
  it("keeps every entity with its own key, whatever the ids contain, and checks each against it", async () => {
    const ids = ['a"b', "c,d]", "e\\f", "ü😀", "[", "}", "x\ny"];
    const reported: KalphiteValidationError[] = [];
    const target = new FrontendDatabase<Entity>({
      dbName: "memory://",
      schema: Entity,
      // Stored under ("comment", "mislabelled"), but the entity says its id is "other".
      migrations: [
        {
          version: 1,
          up: (m) => m.put("comment", "mislabelled", comment("other")),
          down: async () => {},
        },
      ],
      onInvalidRow: (error) => reported.push(error),
    });
    await target.applyChanges(
      ids.map((id, i) => ({
        operation: "upsert" as const,
        entityType: i % 2 ? "review" : "comment",
        entityId: id,
        entity: i % 2 ? review(id) : comment(id, { lineNumber: i }),
        timestamp: 1,
      })),
    );
    const expected = ids.map((id, i) => (i % 2 ? review(id) : comment(id, { lineNumber: i })));
    const byKey = (a: Entity, b: Entity) =>
      a.type < b.type ? -1 : a.type > b.type ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    for (const pageSize of [1, 2, 3, 100]) {
      expect(await target.entities({ pageSize })).toEqual([...expected].sort(byKey));
    }
    expect(await target.getByType("comment")).toEqual(
      expected.filter((e) => e.type === "comment").sort(byKey),
    );
    expect(reported.length).toBe(5);
    for (const error of reported) {
      expect(error.entityId).toBe("mislabelled");
      expect(error.message).toMatch(/stored comment "mislabelled" no longer passes the schema/);
    }
    await target.close();
  });
});

describe("storage settings", () => {
  /** The first row of `sql`, read inside a migration of a fresh in-memory database. */
  async function readInMigration<R>(sql: string): Promise<R | undefined> {
    let row: R | undefined;
    const target = new FrontendDatabase<Entity>({
      dbName: "memory://",
      schema: Entity,
      migrations: [
        {
          version: 1,
          up: async (m) => {
            row = (await m.query<R>(sql))[0];
          },
          down: async () => {},
        },
      ],
    });
    await target.init();
    await target.close();
    return row;
  }

  it("creates WAL segments without zero-filling them (about 100 ms of blocked writes each in memory)", async () => {
    const setting = (await readInMigration<{ wal_init_zero: string }>("show wal_init_zero"))
      ?.wal_init_zero;
    expect(setting).toBe("off");
  });

  it("opens with 16 MB of shared buffers, not 128 MB (PGlite zeroes them on every open: 150–300 ms of a reload)", async () => {
    const setting = (await readInMigration<{ shared_buffers: string }>("show shared_buffers"))
      ?.shared_buffers;
    expect(setting).toBe("16MB");
  });

  it("leaves room in the entities' pages for updates in place (fillfactor 80)", async () => {
    const options = (
      await readInMigration<{ reloptions: string[] | null }>(
        "select reloptions from pg_class where oid = 'kalphite_entities'::regclass",
      )
    )?.reloptions;
    expect(options).toEqual(["fillfactor=80"]);
  });
});

describe("metadata", () => {
  it("gets, sets and deletes JSON values by key", async () => {
    expect(await db.getMeta("sync:cursor")).toBeUndefined();
    await db.setMeta("sync:cursor", 42);
    await db.setMeta("sync:outbox", [{ id: "m1", payload: { a: [1, 2] } }]);
    expect(await db.getMeta<number>("sync:cursor")).toBe(42);
    expect(await db.getMeta("sync:outbox")).toEqual([{ id: "m1", payload: { a: [1, 2] } }]);
    await db.setMeta("sync:cursor", 43);
    expect(await db.getMeta("sync:cursor")).toBe(43);
    expect(await db.deleteMeta("sync:cursor")).toBe(true);
    expect(await db.deleteMeta("sync:cursor")).toBe(false);
    expect(await db.getMeta("sync:cursor")).toBeUndefined();
  });

  it("refuses undefined values and the reserved schema-version key", async () => {
    await expect(db.setMeta("k", undefined)).rejects.toThrow(/deleteMeta/);
    await expect(db.setMeta("kalphite:schemaVersion", 3)).rejects.toThrow(KalphiteUsageError);
  });
});

describe("backup and restore", () => {
  const bad: [string, Blob, RegExp][] = [
    [
      "a corrupted blob",
      new Blob(['{"format":"kalphite-backup","formatVersion":1,"entit']),
      /not valid JSON/,
    ],
    [
      "a foreign JSON file",
      new Blob([JSON.stringify({ hello: "world" })]),
      /not a Kalphite backup/,
    ],
    ["binary noise", new Blob([new Uint8Array([0, 159, 146, 150, 255])]), /not a Kalphite backup/],
    ["a malformed row", backupBlob({ entities: [{ type: 1 }] }), /row 0 is malformed/],
    [
      "an entity the schema rejects",
      backupBlob({
        entities: [{ type: "comment", id: "x", entity: { id: "x", type: "comment" } }],
      }),
      /no longer passes the schema/,
    ],
    ["a newer schema version", backupBlob({ schemaVersion: 9 }), /newer than this database/],
  ];
  for (const [name, blob, message] of bad) {
    it(`refuses ${name} with a clear error and leaves the data intact`, async () => {
      await db.upsert("comment", "keep", comment("keep"));
      await db.setMeta("m", 1);
      await expect(db.restore(blob)).rejects.toThrow(message);
      expect(await db.getByType("comment")).toEqual([comment("keep")]);
      expect(await db.getMeta("m")).toBe(1);
    });
  }

  it("can be disabled", async () => {
    const noBackup = new FrontendDatabase({
      dbName: "memory://",
      schema: Entity,
      enableBackup: false,
    });
    await expect(noBackup.backup()).rejects.toThrow(/enableBackup: false/);
    await noBackup.close();
  });
});

describe("maxStorageMB", () => {
  let small: FrontendDatabase<Entity>;
  beforeAll(async () => {
    small = new FrontendDatabase<Entity>({
      dbName: "memory://",
      schema: Entity,
      maxStorageMB: 0.01,
    });
    await small.init();
  });
  afterAll(() => small.close());

  it("rejects a write past the limit with KalphiteStorageLimitError and writes none of it", async () => {
    await small.upsert("comment", "first", comment("first"));
    const big = Array.from({ length: 200 }, (_, i) => ({
      operation: "upsert" as const,
      entityType: "comment",
      entityId: `c${i}`,
      entity: comment(`c${i}`),
      timestamp: 1,
    }));
    const error = await small.applyChanges(big).catch((e) => e);
    expect(error).toBeInstanceOf(KalphiteStorageLimitError);
    expect(error).toBeInstanceOf(KalphitePersistenceError);
    expect(error.message).toMatch(
      /would store [\d,]+ bytes, over maxStorageMB \(0.01 MB = 10,485 bytes\); nothing was written/,
    );
    const stored = Number(/store ([\d,]+) bytes/.exec(error.message)![1]!.replaceAll(",", ""));
    expect(stored).toBeGreaterThan(10_485);
    expect((await small.getByType("comment")).map((c) => c.id)).toEqual(["first"]);
    await expect(small.setMeta("outbox", "x".repeat(20_000))).rejects.toThrow(
      KalphiteStorageLimitError,
    );
    expect(await small.getMeta("outbox")).toBeUndefined();
    // Deleting frees space; writes that fit still go through.
    await small.delete("comment", "first");
    await small.applyChanges(big.slice(0, 20));
    expect(await small.getByType("comment")).toHaveLength(20);
  });
});

describe("close", () => {
  it("is idempotent and later calls say the database is closed", async () => {
    const other = new FrontendDatabase({ dbName: "memory://", schema: Entity });
    await other.init();
    await other.close();
    await other.close();
    await expect(other.getByType("comment")).rejects.toThrow(/closed/);
    await expect(other.init()).rejects.toThrow(KalphiteUsageError);
  });
});
