import { PGlite } from "@electric-sql/pglite";
const pg = await PGlite.create(process.argv[2]!);
await pg.exec(`drop table if exists tj; create table tj as select type, id, entity::json as entity from kalphite_entities; drop table if exists tt; create table tt as select type, id, entity::text as entity from kalphite_entities; checkpoint;`);
const q = { jsonb: `select string_agg(entity::text, ',') as s from kalphite_entities`, json: `select string_agg(entity::text, ',') as s from tj`, text: `select string_agg(entity, ',') as s from tt`,
  jsonb_ids: `select json_agg(id)::text as s from kalphite_entities`, count: `select count(*)::text as s from kalphite_entities` };
for (let r = 0; r < 3; r++) for (const [k, sql] of Object.entries(q)) { const t = performance.now(); const x = await pg.query<{ s: string }>(sql); console.log(k, (performance.now() - t).toFixed(0), x.rows[0]!.s.length); }
await pg.close();
