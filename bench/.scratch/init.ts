import { PGlite } from "@electric-sql/pglite";
import { FrontendDatabase } from "../../src/database/index.js";
import { Entity } from "../../test/fixtures/schema.js";
const dir = "/tmp/reload-100k";
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const pg = await PGlite.create(dir);
  const a = performance.now() - t; t = performance.now();
  await pg.query("select 1");
  const b = performance.now() - t; t = performance.now();
  const r = await pg.query<{ page: string }>(`select '[' || string_agg(entity::text, ',') || ']' as page from kalphite_entities`);
  const c = performance.now() - t; t = performance.now();
  const r2 = await pg.query<{ page: string }>(`select '[' || string_agg(entity::text, ',') || ']' as page from kalphite_entities`);
  const c2 = performance.now() - t; t = performance.now();
  JSON.parse(r.rows[0]!.page);
  const d = performance.now() - t; t = performance.now();
  await pg.close();
  console.log(`create ${a.toFixed(0)} q1 ${b.toFixed(0)} agg ${c.toFixed(0)} agg2 ${c2.toFixed(0)} parse ${d.toFixed(0)} len ${r.rows[0]!.page.length} close ${(performance.now()-t).toFixed(0)}`);
}
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  const db = new FrontendDatabase({ dbName: dir, schema: Entity });
  await db.init();
  console.log("db.init", (performance.now() - t).toFixed(0));
  await db.close();
}
