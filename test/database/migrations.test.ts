import { afterAll, describe, expect, it } from "vitest";
import { FrontendDatabase, type Migration } from "../../src/database/index.js";
import {
  KalphitePersistenceError,
  KalphiteStorageLimitError,
  KalphiteValidationError,
} from "../../src/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { tempDirs } from "./helpers.js";

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

// v1 renames comment bodies' status "todo" (an old value) to "open"; v2 stamps a meta key.
const v1: Migration = {
  version: 1,
  async up(db) {
    await db.exec(
      `update kalphite_entities set entity = jsonb_set(entity, '{data,status}', '"open"') where type = 'comment' and entity->'data'->>'status' = 'todo'`,
    );
  },
  async down(db) {
    for (const entity of await db.entities("comment")) {
      const data = (entity as any).data;
      await db.put("comment", entity.id, { ...entity, data: { ...data, status: "todo" } });
    }
  },
};
const v2: Migration = {
  version: 2,
  up: async (db) => {
    await db.query(`insert into kalphite_meta (key, value, size) values ('migrated', 'true', 4)`);
  },
  down: async (db) => {
    await db.query(`delete from kalphite_meta where key = 'migrated'`);
  },
};
/** Writes a row the strict schema rejects, the way an old app version would have. */
const legacyRow: Migration = {
  version: 1,
  up: (db) =>
    db.put("comment", "old", {
      id: "old",
      type: "comment",
      updatedAt: 1,
      data: { body: "x", lineNumber: 1, status: "todo" },
    }),
  down: async (db) => {
    await db.remove("comment", "old");
  },
};

describe("migrations on a data directory", () => {
  it("upgrade keeps the data, down reverts it, a newer database is refused, a row failing the schema is reported", async () => {
    const dbName = dirs.make();

    // Version 1 of the app: writes a row that today's schema rejects.
    const old = new FrontendDatabase({ dbName, schema: Entity, migrations: [legacyRow] });
    await old.init();
    await old.upsert("comment", "c1", comment("c1"));
    expect(await old.getSchemaVersion()).toBe(1);
    // A row that no longer validates is reported, never loaded silently.
    const error = await old.getById("comment", "old").catch((e) => e);
    expect(error).toBeInstanceOf(KalphiteValidationError);
    expect(error.message).toMatch(
      /stored comment "old" no longer passes the schema.*Migration.*onInvalidRow/,
    );
    await expect(old.getByType("comment")).rejects.toThrow(KalphiteValidationError);
    await old.close();

    // Skipping mode: the bad row is reported to onInvalidRow and left in the database.
    const reported: KalphiteValidationError[] = [];
    const lenient = new FrontendDatabase({
      dbName,
      schema: Entity,
      migrations: [legacyRow],
      onInvalidRow: (e) => reported.push(e),
    });
    expect((await lenient.getByType("comment")).map((c) => c.id)).toEqual(["c1"]);
    expect(await lenient.getById("comment", "old")).toBeUndefined();
    expect(reported.map((e) => e.entityId)).toEqual(["old", "old"]);
    await lenient.close();

    // Version 2 of the app: migrations 1 and 2 (its migration 1 is the same version number,
    // already applied); it adds v2 which stamps the metadata.
    const fixer = new FrontendDatabase({ dbName, schema: Entity, migrations: [legacyRow, v2] });
    await fixer.init();
    await fixer.init(); // idempotent: runs nothing twice
    expect(await fixer.getSchemaVersion()).toBe(2);
    expect(await fixer.getMeta("migrated")).toBe(true);
    expect(await fixer.getMeta("kalphite:schemaVersion")).toBe(2);
    await fixer.migrateTo(1);
    expect(await fixer.getSchemaVersion()).toBe(1);
    expect(await fixer.getMeta("migrated")).toBeUndefined();
    await fixer.migrateTo(2);
    await fixer.close();

    // An older app (knows only migration 1) refuses the newer database, clearly.
    const older = new FrontendDatabase({ dbName, schema: Entity, migrations: [legacyRow] });
    await expect(older.init()).rejects.toThrow(
      /schema version 2, newer than the highest migration given \(1\)/,
    );
    await older.close();
  }, 180_000);

  it("runs up in order keeping data, and a failing migration leaves the previous version and data", async () => {
    const dbName = dirs.make();
    const legacy = new FrontendDatabase({ dbName, schema: Entity, enableMigrations: false });
    await legacy.init();
    await legacy.upsert("comment", "c1", comment("c1"));
    await legacy.close();

    const broken: Migration = {
      version: 2,
      up: async (db) => {
        await db.exec(`delete from kalphite_entities`);
        throw new Error("bug in migration 2");
      },
      down: async () => {},
    };
    const failing = new FrontendDatabase({ dbName, schema: Entity, migrations: [v1, broken] });
    await expect(failing.init()).rejects.toThrow(
      /Migration 2 up \(the database stays at version 1\).*bug in migration 2/,
    );
    await failing.close();

    const db = new FrontendDatabase({ dbName, schema: Entity, migrations: [v1] });
    expect(await db.getSchemaVersion()).toBe(1);
    expect(await db.getById("comment", "c1")).toEqual(comment("c1"));
    await db.migrateTo(0);
    expect((await db.getById("comment", "c1").catch((e) => e)).message).toMatch(/todo/);
    await db.close();
  }, 180_000);

  it("after several steps the storage limit counts what raw SQL wrote, even when a later step fails and rolls back", async () => {
    // Each step grows c1 by 4,000 bytes with raw SQL, which leaves its stored size stale.
    const grow = (version: number): Migration => ({
      version,
      up: (db) =>
        db.exec(
          `update kalphite_entities set entity = jsonb_set(entity, '{data,body}', to_jsonb((entity->'data'->>'body') || repeat('x', 4000)))`,
        ),
      down: async () => {},
    });
    const broken: Migration = {
      version: 3,
      up: async (db) => {
        await db.exec(`delete from kalphite_entities`);
        throw new Error("bug in migration 3");
      },
      down: async () => {},
    };
    const limit = { schema: Entity, maxStorageMB: 0.01 }; // 10,485 bytes
    // c1 at about 8,100 bytes: this one fits only if c1 were still counted at its old size.
    const big = comment("c2", { body: "y".repeat(3000) });
    const expectRefused = async (db: FrontendDatabase) => {
      await expect(db.upsert("comment", "c2", big)).rejects.toBeInstanceOf(
        KalphiteStorageLimitError,
      );
      expect(await db.getById("comment", "c2")).toBeUndefined();
    };

    // Two steps that succeed (migrateTo, in memory).
    const memory = new FrontendDatabase({
      dbName: "memory://",
      migrations: [grow(1), grow(2)],
      ...limit,
    });
    await memory.migrateTo(0);
    await memory.upsert("comment", "c1", comment("c1"));
    await memory.migrateTo(2);
    await expectRefused(memory);
    await memory.close();

    // Two steps that succeed and a third that fails (init, on disk).
    const dbName = dirs.make();
    const seed = new FrontendDatabase({ dbName, schema: Entity, enableMigrations: false });
    await seed.upsert("comment", "c1", comment("c1"));
    await seed.close();
    const failing = new FrontendDatabase({
      dbName,
      migrations: [grow(1), grow(2), broken],
      ...limit,
    });
    const error = await failing.init().catch((e) => e);
    expect(error).toBeInstanceOf(KalphitePersistenceError);
    expect(error.message).toMatch(
      /Migration 3 up \(the database stays at version 2\).*bug in migration 3/,
    );
    await failing.close();

    // Reopened at version 2, nothing left to migrate: steps 1 and 2 are kept, step 3's delete was
    // rolled back, and the sizes were fixed by the failed run.
    const db = new FrontendDatabase({ dbName, migrations: [grow(1), grow(2)], ...limit });
    expect(await db.getSchemaVersion()).toBe(2);
    const c1 = await db.getById("comment", "c1");
    expect(c1?.data).toMatchObject({ body: `body of c1${"x".repeat(8000)}` });
    await expectRefused(db);
    // Shrinking c1 makes room.
    await db.upsert("comment", "c1", comment("c1"));
    await db.upsert("comment", "c2", big);
    await db.close();
  }, 180_000);

  it("refuses a migration list with bad versions", () => {
    expect(
      () => new FrontendDatabase({ dbName: "memory://", schema: Entity, migrations: [v1, v1] }),
    ).toThrow(/Two migrations have version 1/);
    expect(
      () =>
        new FrontendDatabase({
          dbName: "memory://",
          schema: Entity,
          migrations: [{ ...v1, version: 0 }],
        }),
    ).toThrow(/positive integer/);
  });
});
