import { PGlite } from "@electric-sql/pglite";
const pg = await PGlite.create("/tmp/reload-100k");
const full = (cols: string) => `select ${cols} as page from (select type, id, entity from kalphite_entities order by type, id) s`;
const variants: Record<string, string> = {
  all: full(`'[' || json_agg(s.type)::text || ',' || json_agg(s.id)::text || ',[' || string_agg(s.entity::text, ',') || ']]'`),
  noType: full(`'[' || json_agg(s.id)::text || ',[' || string_agg(s.entity::text, ',') || ']]'`),
  entitiesOnly: full(`'[' || string_agg(s.entity::text, ',') || ']'`),
};
for (let r = 0; r < 4; r++) {
  const out: string[] = [];
  for (const [k, q] of Object.entries(variants)) {
    const t = performance.now();
    const rows = (await pg.query<{ page: string }>(q)).rows;
    const a = performance.now() - t;
    const t2 = performance.now();
    JSON.parse(rows[0]!.page);
    out.push(`${k} ${a.toFixed(0)}+${(performance.now() - t2).toFixed(0)}`);
  }
  console.log(out.join("  "));
}
