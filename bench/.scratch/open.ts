import { PGlite } from "@electric-sql/pglite";
const START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  const pg = await PGlite.create(process.argv[2] ?? "/tmp/reload-100k", { startParams: START_PARAMS });
  const a = performance.now() - t;
  await pg.close();
  console.log("open", a.toFixed(0));
}
console.log(PGlite.defaultStartParams);
