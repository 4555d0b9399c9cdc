import { PGlite } from "@electric-sql/pglite";
import { aggregateRows } from "../src/database/stored-rows.js";
const dir = process.argv[2]!;
const pg = await PGlite.create(dir);
const keyset = async () => { let after: string[] | undefined; let n = 0;
  for (;;) { const r = await pg.query<{ page: string }>(aggregateRows(`select type, id, entity from kalphite_entities ${after ? "where (type, id) > ($1, $2) " : ""}order by type, id limit 10000`), after ?? []);
    const [types, ids] = JSON.parse(r.rows[0]!.page); n += ids.length; if (ids.length < 10000) return n; after = [types.at(-1), ids.at(-1)]; } };
const blocks = (await pg.query<{ b: number }>(`select (pg_relation_size('kalphite_entities') / 8192)::int as b`)).rows[0]!.b;
const tid = async (per: number) => { let n = 0;
  for (let b = 0; b < blocks; b += per) { const r = await pg.query<{ page: string }>(aggregateRows(`select type, id, entity from kalphite_entities where ctid >= '(${b},0)'::tid and ctid < '(${b + per},0)'::tid`));
    n += JSON.parse(r.rows[0]!.page)[1].length; } return n; };
const one = async () => JSON.parse((await pg.query<{ page: string }>(aggregateRows(`select type, id, entity from kalphite_entities`))).rows[0]!.page)[1].length;
console.log("blocks", blocks, (await pg.query(`explain select * from kalphite_entities where ctid >= '(0,0)'::tid and ctid < '(100,0)'::tid`)).rows);
for (let r = 0; r < 3; r++) for (const [name, f] of [["keyset", keyset], ["tid 500", () => tid(500)], ["one scan", one]] as const) {
  const t = performance.now(); const n = await f(); console.log(name, n, (performance.now() - t).toFixed(0));
}
await pg.close();
