import { PGlite } from "@electric-sql/pglite";
const pg = await PGlite.create("/tmp/srv-100k");
console.log((await pg.query(`select schemaname||'.'||tablename as tablename from pg_tables where schemaname not in ('pg_catalog','information_schema')`)).rows.map((r: any) => r.tablename));
const tbl = (await pg.query<{ t: string }>(`select schemaname||'.'||tablename as t from pg_tables where tablename like '%entities'`)).rows[0]!.t;
console.log((await pg.query(`select indexdef from pg_indexes where schemaname||'.'||tablename = '${tbl}'`)).rows);
const q = `EXPLAIN ANALYZE SELECT * FROM ${tbl} WHERE room_id = $1 AND (entity_type, entity_id) > ($2, $3) ORDER BY entity_type, entity_id LIMIT 500`;
const r = await pg.query<any>(q, ["room", "comment", "c5000"]);
console.log(r.rows.map((x: any) => x["QUERY PLAN"]).join("\n"));
let after: [string, string] | undefined;
const t = performance.now(); let n = 0;
for (let i = 0; i < 20; i++) {
  const rows = after ? (await pg.query<any>(`SELECT * FROM ${tbl} WHERE room_id = $1 AND (entity_type, entity_id) > ($2, $3) ORDER BY entity_type, entity_id LIMIT 500`, ["room", after[0], after[1]])).rows
    : (await pg.query<any>(`SELECT * FROM ${tbl} WHERE room_id = $1 ORDER BY entity_type, entity_id LIMIT 500`, ["room"])).rows;
  n += rows.length; const last = rows.at(-1); after = [last.entity_type, last.entity_id];
}
console.log("20 pages", (performance.now() - t).toFixed(0), "ms", n);
