import { PGlite } from "@electric-sql/pglite";
const pg = await PGlite.create("/tmp/reload-json");
let t = performance.now();
await pg.exec(`alter table kalphite_entities alter column entity type json using entity::json; alter table kalphite_sync_versions alter column vector type json using vector::json, alter column entity type json using entity::json; checkpoint`);
console.log("alter", (performance.now() - t).toFixed(0));
await pg.close();
for (const dir of ["/tmp/reload-100k", "/tmp/reload-json", "/tmp/reload-100k", "/tmp/reload-json"]) {
  const pg = await PGlite.create(dir);
  const times = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await pg.query(`select coalesce('[' || json_agg(s.type)::text || ',' || json_agg(s.id)::text || ',[' || string_agg(s.entity::text, ',') || ']]', '[[],[],[]]') as page from (select type, id, entity from kalphite_entities order by type, id limit 10000) s`);
    const t2 = performance.now();
    await pg.query(`select '[' || coalesce(string_agg(v.vector::text, ','), '') || ']' as vectors from kalphite_sync_versions v where room = 'room'`);
    times.push(`${(t2 - t).toFixed(0)}/${(performance.now() - t2).toFixed(0)}`);
  }
  console.log(dir, times.join(" "));
  await pg.close();
}
