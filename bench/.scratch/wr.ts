import { PGlite } from "@electric-sql/pglite";
const pg = await PGlite.create("memory://");
await pg.exec(`create table ej (type text, id text, entity jsonb not null, size int, primary key (type, id)) with (fillfactor=80);
create table et (type text, id text, entity json not null, size int, primary key (type, id)) with (fillfactor=80);`);
const batch = (n: number, k: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ t: "comment", i: `c${i}`, e: { type: "comment", id: `c${i}`, createdAt: i, updatedAt: k, data: { body: `comment ${i} ${k}`, lineNumber: i, author: "u1", filePath: "src/a.ts", resolved: false } } })));
const qj = `insert into ej (type, id, entity, size) select r->>'t', r->>'i', r->'e', octet_length((r->'e')::text) from jsonb_array_elements($1::jsonb) r on conflict (type, id) do update set entity = excluded.entity, size = excluded.size`;
const qt = `insert into et (type, id, entity, size) select r->>'t', r->>'i', r->'e', octet_length((r->'e')::text) from json_array_elements($1::json) r on conflict (type, id) do update set entity = excluded.entity, size = excluded.size`;
for (const n of [1, 10000]) for (let round = 0; round < 3; round++) {
  const p = batch(n, round);
  const times: string[] = [];
  for (const [name, q] of [["jsonb", qj], ["json", qt]] as const) {
    const t = performance.now();
    for (let r = 0; r < (n === 1 ? 200 : 1); r++) await pg.query(q, [p]);
    times.push(`${name} ${((performance.now() - t) / (n === 1 ? 200 : 1)).toFixed(2)}`);
  }
  console.log(n, times.join("  "));
}
