import { PGlite } from "@electric-sql/pglite";
import { rmSync } from "node:fs";
rmSync("/tmp/empty-pg", { recursive: true, force: true });
await (await PGlite.create("/tmp/empty-pg")).close();
for (const dir of ["memory://", "/tmp/empty-pg", "/tmp/reload-100k", "memory://", "/tmp/empty-pg", "/tmp/reload-100k"]) {
  const t = performance.now();
  const pg = await PGlite.create(dir);
  const a = performance.now() - t;
  await pg.close();
  console.log(dir, a.toFixed(0));
}
