import { PGlite } from "@electric-sql/pglite";
import { FrontendDatabase } from "../../src/database/index.js";
import { Entity } from "../../test/fixtures/schema.js";
const db = new FrontendDatabase({ dbName: "memory://", schema: Entity });
await db.init();
const pg = await PGlite.create("memory://");
await pg.exec(`create table kalphite_entities (type text not null, id text not null, entity jsonb not null, size integer not null, primary key (type, id))`);
console.log((await pg.query(`select version()`)).rows, (await pg.query(`select contype, conname from pg_constraint where conrelid = 'kalphite_entities'::regclass`)).rows,
(await pg.query(`select classid::regclass, objid, deptype from pg_depend where refobjid = 'kalphite_entities'::regclass`)).rows);
