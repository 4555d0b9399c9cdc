import { PGlite } from "@electric-sql/pglite";
const pg = await PGlite.create("memory://");
console.log((await pg.query(`select castsource::regtype, casttarget::regtype, castcontext from pg_cast where castsource in ('json'::regtype,'jsonb'::regtype)`)).rows);
