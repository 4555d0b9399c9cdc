import { PGlite } from "@electric-sql/pglite";
const variants: Record<string, string> = {
  current: `select coalesce(json_agg(v.type)::text, '[]') as types,
          coalesce(json_agg(v.id)::text, '[]') as ids,
          '[' || coalesce(string_agg(v.vector::text, ','), '') || ']' as vectors,
          coalesce(json_agg(v.seq)::text, '[]') as seqs,
          coalesce(json_agg(v.entity) filter (where not v.shown)::text, '[]') as entities,
          coalesce(json_agg(v.shown)::text, '[]') as shown
        from kalphite_sync_versions v where v.room = $1`,
  grouped: `select v.type, json_agg(v.id)::text as ids,
          '[' || string_agg(v.vector::text, ',') || ']' as vectors,
          '[' || string_agg(v.seq::text, ',') || ']' as seqs,
          coalesce(json_agg(v.entity) filter (where not v.shown)::text, '[]') as entities,
          string_agg(case when v.shown then '1' else '0' end, '') as shown
        from kalphite_sync_versions v where v.room = $1 group by v.type`,
  onestring: `select v.type, '[' || string_agg(to_json(v.id)::text || ',' || v.seq || ',' || v.vector::text || ',' || case when v.shown then '1' else coalesce(v.entity::text, 'null') end, ',') || ']' as rows
        from kalphite_sync_versions v where v.room = $1 group by v.type`,
};
for (const dir of ["/tmp/reload-100k", "/tmp/reload-json"]) {
  const pg = await PGlite.create(dir);
  for (let round = 0; round < 3; round++) {
    const out: string[] = [];
    for (const [name, q] of Object.entries(variants)) {
      const t = performance.now();
      const rows = (await pg.query<Record<string, string>>(q, ["room"])).rows;
      const a = performance.now() - t;
      const t2 = performance.now();
      for (const r of rows) for (const [k, s] of Object.entries(r)) if (k !== "type" && k !== "shown") JSON.parse(s);
      out.push(`${name} ${a.toFixed(0)}+${(performance.now() - t2).toFixed(0)}`);
    }
    console.log(dir, out.join("  "));
  }
  await pg.close();
}
