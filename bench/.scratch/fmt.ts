import { PGlite } from "@electric-sql/pglite";
const pg = await PGlite.create("memory://");
await pg.query(`create table ej (type text, id text, entity jsonb, primary key (type, id))`);
await pg.query(`create table et (type text, id text, entity json, primary key (type, id))`);
await pg.query(`create table ex (type text, id text, entity text, primary key (type, id))`);
const rows = [];
for (let i = 0; i < 100_000; i++) rows.push({ type: "comment", id: `c${i}`, createdAt: i, updatedAt: i, data: { body: `comment ${i}`, lineNumber: i, author: "u1", filePath: "src/a.ts", resolved: false } });
const js = JSON.stringify(rows);
await pg.query(`insert into ej select r->>'type', r->>'id', r from jsonb_array_elements($1::jsonb) r`, [js]);
await pg.query(`insert into et select type, id, entity::json from ej`);
await pg.query(`insert into ex select type, id, entity::text from ej`);
for (let k = 0; k < 3; k++) for (const t of ["ej", "et", "ex"]) {
  const s = performance.now();
  const r = await pg.query<{ page: string }>(`select '[' || json_agg(s.type)::text || ',' || json_agg(s.id)::text || ',[' || string_agg(s.entity::text, ',') || ']]' as page from (select type, id, entity from ${t} order by type, id limit 10000000) s`);
  const q = performance.now() - s;
  const s2 = performance.now();
  const r2 = await pg.query<{ page: string }>(`select string_agg(s.entity::text, ',') as page from (select entity from ${t} order by type, id) s`);
  const q2 = performance.now() - s2;
  const s3 = performance.now();
  const r3 = await pg.query<{ id: string }>(`select id from ${t} order by type, id`);
  const q3 = performance.now() - s3;
  console.log(t, "full", q.toFixed(0), "entities only", q2.toFixed(0), "ids rows", q3.toFixed(0), r.rows[0]!.page.length);
}
