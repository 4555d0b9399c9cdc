import { PGlite } from "@electric-sql/pglite";
const pg = await PGlite.create("/tmp/reload-100k");
const q = `select coalesce(json_agg(v.type)::text, '[]') as types,
          coalesce(json_agg(v.id)::text, '[]') as ids,
          '[' || coalesce(string_agg(v.vector::text, ','), '') || ']' as vectors,
          coalesce(json_agg(v.seq)::text, '[]') as seqs,
          coalesce(json_agg(v.entity) filter (where not v.shown)::text, '[]') as entities,
          coalesce(json_agg(v.shown)::text, '[]') as shown
        from kalphite_sync_versions v where v.room = $1`;
for (let i = 0; i < 4; i++) {
  let t = performance.now();
  const r = (await pg.query<Record<string,string>>(q, ["room"])).rows[0]!;
  const a = performance.now() - t; t = performance.now();
  const parsed = Object.values(r).map((s) => JSON.parse(s));
  const b = performance.now() - t;
  t = performance.now();
  const r2 = (await pg.query<Record<string,string>>(`select string_agg(v.vector::text, ',') as x from kalphite_sync_versions v where v.room = $1`, ["room"])).rows[0]!;
  const c = performance.now() - t;
  t = performance.now();
  const r3 = (await pg.query<Record<string,string>>(`select json_agg(v.id)::text as x from kalphite_sync_versions v where v.room = $1`, ["room"])).rows[0]!;
  const d = performance.now() - t;
  console.log("query", a.toFixed(0), "parse", b.toFixed(0), "vectors only", c.toFixed(0), "ids only", d.toFixed(0), Object.values(r).map((s) => s.length).join(","));
}
