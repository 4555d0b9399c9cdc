// The entity and version columns stored as `json` (the text as written), and handed to
// migrations as `jsonb`.
import type { PGlite } from "@electric-sql/pglite";
import { ENTITIES, queryError, SYNC_VERSIONS } from "./sql.js";

/**
 * Entities and confirmed versions are stored as `json`, the text as it was written, rather than
 * `jsonb`: a reload reads every row back as text, which `json` hands over as stored where `jsonb`
 * prints it again from its binary form. Reading 100,000 entities took about 60% of the time
 * (190 instead of 300 ms on the same machine), their versions' vectors about 70%. Every entity
 * is validated by the store, so `jsonb`'s own parse checks nothing more; nothing queries the
 * columns by their contents.
 *
 * A database written before keeps `jsonb` columns until it opens here: they are converted once
 * (each table rewritten: about 1.5 s for 100,000 entities). The entity column is left as
 * `jsonb` when the app's migrations built on it (an index, a constraint, a trigger, a view):
 * every statement here works with either type.
 */
const COLUMNS = [
  [ENTITIES, "entity"],
  [SYNC_VERSIONS, "vector"],
  [SYNC_VERSIONS, "entity"],
] as const;

/** Which of `COLUMNS` are `jsonb`, and whether the app's own SQL depends on the entity table. */
const JSONB_COLUMNS = `select
  coalesce(json_agg(c.relname || '.' || a.attname), '[]') as jsonb,
  exists (select 1 from pg_index i where i.indrelid = '${ENTITIES}'::regclass and not i.indisprimary)
    or exists (select 1 from pg_constraint k where k.conrelid = '${ENTITIES}'::regclass and k.contype not in ('p', 'n'))
    or exists (select 1 from pg_trigger t where t.tgrelid = '${ENTITIES}'::regclass and not t.tgisinternal)
    or exists (select 1 from pg_depend d where d.refobjid = '${ENTITIES}'::regclass and d.classid = 'pg_rewrite'::regclass)
    as used
  from pg_attribute a join pg_class c on c.oid = a.attrelid
  where a.atttypid = 'jsonb'::regtype and not a.attisdropped
    and (c.relname, a.attname) in (${COLUMNS.map(([table, column]) => `('${table}', '${column}')`).join(", ")})`;

const alter = (table: string, column: string, type: "json" | "jsonb") =>
  `alter table ${table} alter column ${column} type ${type} using ${column}::${type}`;

/**
 * Converts what is still `jsonb` to `json`, in one transaction (all or nothing). Returns whether
 * the entity column was converted (its sizes then need recounting).
 */
export async function storeAsJson(pg: PGlite): Promise<boolean> {
  let sql = JSONB_COLUMNS;
  try {
    const found = (await pg.query<{ jsonb: string[]; used: boolean }>(sql)).rows[0]!;
    const columns = COLUMNS.filter(
      ([table, column]) =>
        found.jsonb.includes(`${table}.${column}`) && !(table === ENTITIES && found.used),
    );
    if (columns.length === 0) return false;
    sql = columns.map(([table, column]) => `${alter(table, column, "json")};`).join("\n");
    await pg.exec(sql);
    return columns.some(([table]) => table === ENTITIES);
  } catch (error) {
    throw queryError("Storing entities as json", error, sql);
  }
}

/**
 * Runs `steps` (the app's migrations) with the entity column as `jsonb`, the type their raw SQL
 * is written for (`jsonb_set(entity, ...)`), and converts it back after them, whether they
 * succeeded or not (unless they built on it: then it stays `jsonb`, which works as well, so a
 * failure to convert it back is not one of the migrations').
 */
export async function withJsonbEntities<T>(pg: PGlite, steps: () => Promise<T>): Promise<T> {
  let sql = `select atttypid = 'json'::regtype as json from pg_attribute
    where attrelid = '${ENTITIES}'::regclass and attname = 'entity'`;
  try {
    if ((await pg.query<{ json: boolean }>(sql)).rows[0]?.json) {
      sql = alter(ENTITIES, "entity", "jsonb");
      await pg.exec(sql);
    }
  } catch (error) {
    throw queryError("Preparing the entities for the migrations", error, sql);
  }
  try {
    return await steps();
  } finally {
    await storeAsJson(pg).catch(() => {});
  }
}
