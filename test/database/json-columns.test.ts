// Entities and confirmed versions stored as `json`: a database written with `jsonb` columns (the
// format before) opens with everything in it, and migrations still see `jsonb`.
import { PGlite } from "@electric-sql/pglite";
import { afterAll, describe, expect, it } from "vitest";
import { FrontendDatabase, type Migration } from "../../src/database/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { tempDirs } from "./helpers.js";

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

const COLUMNS = `select c.relname || '.' || a.attname as column, format_type(a.atttypid, null) as type
  from pg_attribute a join pg_class c on c.oid = a.attrelid
  where (c.relname, a.attname) in (('kalphite_entities', 'entity'),
    ('kalphite_sync_versions', 'vector'), ('kalphite_sync_versions', 'entity'))
  order by 1`;

/** Runs `fn` on the closed database's directory with PGlite itself. */
async function raw<T>(dir: string, fn: (pg: PGlite) => Promise<T>): Promise<T> {
  const pg = await PGlite.create(dir);
  try {
    return await fn(pg);
  } finally {
    await pg.close();
  }
}

async function columnTypes(dir: string): Promise<Record<string, string>> {
  return raw(dir, async (pg) => {
    const rows = (await pg.query<{ column: string; type: string }>(COLUMNS)).rows;
    return Object.fromEntries(rows.map((row) => [row.column, row.type]));
  });
}

/** The comment bodies of `entities`, in order. */
const bodies = (entities: readonly Entity[]) =>
  entities.map((e) => (e.type === "comment" ? e.data.body : undefined));

const allJson = {
  "kalphite_entities.entity": "json",
  "kalphite_sync_versions.entity": "json",
  "kalphite_sync_versions.vector": "json",
};

/** Two comments and the confirmed versions of a room (one left to its row, one stored). */
async function seed(dir: string, migrations?: Migration[]): Promise<void> {
  const db = new FrontendDatabase({
    dbName: dir,
    schema: Entity,
    ...(migrations ? { migrations } : {}),
  });
  await db.upsert("comment", "c1", comment("c1", { body: "first" }));
  await db.upsert("comment", "c2", comment("c2", { body: "second" }));
  const state = db.syncState("room");
  await state.load();
  const c1 = { entityType: "comment", entityId: "c1" };
  const c2 = { entityType: "comment", entityId: "c2" };
  state.record({
    kind: "version",
    version: { ...c1, entity: null, vector: { ann: 2 }, seq: 7 },
    shown: false,
  });
  state.record({
    kind: "version",
    version: { ...c2, entity: comment("c2", { body: "server" }), vector: { bob: 1 }, seq: 8 },
    shown: false,
  });
  state.record({ kind: "cursor", cursor: 8 });
  await state.flush();
  await db.close();
}

async function expectSeeded(db: FrontendDatabase<Entity>): Promise<void> {
  expect(bodies([(await db.getById("comment", "c1"))!])).toEqual(["first"]);
  expect(bodies(await db.entities())).toEqual(["first", "second"]);
  const state = await db.syncState("room").load();
  expect(state?.cursor).toBe(8);
  const versions = Object.fromEntries(state!.versions.map((v) => [v.entityId, v]));
  expect(versions.c1).toMatchObject({ vector: { ann: 2 }, seq: 7, entity: null });
  expect(versions.c2).toMatchObject({ vector: { bob: 1 }, seq: 8 });
  expect(bodies([versions.c2!.entity as Entity])).toEqual(["server"]);
}

describe("entities stored as json", () => {
  it("a new database stores entities and versions as json", async () => {
    const dir = dirs.make();
    await seed(dir);
    expect(await columnTypes(dir)).toEqual(allJson);
  });

  it("a database written with jsonb columns is converted on open, with everything in it and sizes recounted", async () => {
    const dir = dirs.make();
    await seed(dir);
    // The format before: jsonb columns, and sizes counted from jsonb's text (with spaces).
    await raw(dir, (pg) =>
      pg.exec(`alter table kalphite_entities alter column entity type jsonb using entity::jsonb;
        alter table kalphite_sync_versions alter column vector type jsonb using vector::jsonb,
          alter column entity type jsonb using entity::jsonb;
        update kalphite_entities set size = octet_length(entity::text);`),
    );
    const db = new FrontendDatabase({ dbName: dir, schema: Entity });
    await db.init();
    await expectSeeded(db);
    await db.close();
    expect(await columnTypes(dir)).toEqual(allJson);
    const stale = await raw(
      dir,
      async (pg) =>
        (
          await pg.query<{ n: number }>(
            `select count(*)::int as n from kalphite_entities where size <> octet_length(entity::text)`,
          )
        ).rows[0]!.n,
    );
    expect(stale).toBe(0);
  });

  it("migrations see the entity column as jsonb, and it is json again after them", async () => {
    const dir = dirs.make();
    await seed(dir);
    const seen: string[] = [];
    const upper: Migration = {
      version: 1,
      async up(db) {
        const rows = await db.query<{ type: string }>(
          `select pg_typeof(entity)::text as type from kalphite_entities limit 1`,
        );
        seen.push(rows[0]!.type);
        await db.exec(
          `update kalphite_entities set entity = jsonb_set(entity, '{data,body}', to_jsonb(upper(entity->'data'->>'body')))`,
        );
      },
      down: async () => {},
    };
    const db = new FrontendDatabase({ dbName: dir, schema: Entity, migrations: [upper] });
    await db.init();
    expect(seen).toEqual(["jsonb"]);
    expect(bodies(await db.entities())).toEqual(["FIRST", "SECOND"]);
    await db.close();
    expect(await columnTypes(dir)).toEqual(allJson);
  });

  it("a failing migration leaves the column json and the data as it was", async () => {
    const dir = dirs.make();
    await seed(dir);
    const failing: Migration = {
      version: 1,
      up: (db) => db.exec(`select 1/0`),
      down: async () => {},
    };
    const db = new FrontendDatabase({ dbName: dir, schema: Entity, migrations: [failing] });
    await expect(db.init()).rejects.toThrow(/Migration 1 up/);
    await db.close();
    expect(await columnTypes(dir)).toEqual(allJson);
    const reopened = new FrontendDatabase({ dbName: dir, schema: Entity });
    await reopened.init();
    await expectSeeded(reopened);
    await reopened.close();
  });

  it("an index a migration built on the jsonb column keeps it jsonb, and reads, writes and reopens work", async () => {
    const dir = dirs.make();
    const gin: Migration = {
      version: 1,
      up: (db) =>
        db.exec(
          `create index comment_fields on kalphite_entities using gin (entity jsonb_path_ops)`,
        ),
      down: (db) => db.exec(`drop index comment_fields`),
    };
    await seed(dir, [gin]);
    expect((await columnTypes(dir))["kalphite_entities.entity"]).toBe("jsonb");
    const db = new FrontendDatabase({ dbName: dir, schema: Entity, migrations: [gin] });
    await db.init();
    await expectSeeded(db);
    await db.upsert("comment", "c3", comment("c3", { body: "third" }));
    expect(bodies([(await db.getById("comment", "c3"))!])).toEqual(["third"]);
    // Undone, nothing depends on the column any more: it is json again.
    await db.migrateTo(0);
    expect(bodies(await db.entities())).toEqual(["first", "second", "third"]);
    await db.close();
    expect(await columnTypes(dir)).toEqual(allJson);
  });
});
