import { PGlite } from "@electric-sql/pglite";
const pg = await PGlite.create("/tmp/srv-100k");
console.log((await pg.query(`select current_database(), (select count(*) from pg_class where relkind='r') as n, (select string_agg(nspname||'.'||relname, ',') from pg_class c join pg_namespace s on s.oid=c.relnamespace where relkind='r' and nspname not in ('pg_catalog','information_schema')) as t`)).rows);
console.log((await pg.query(`select datname from pg_database`)).rows);
