import { pgliteStorage } from "../../src/server/index.js";
const storage = await pgliteStorage({ dataDir: "/tmp/srv-100k" });
let t = performance.now();
const head = await storage.head("room"); const n = await storage.entityCount("room");
console.log("head", head, "count", n, (performance.now() - t).toFixed(0));
let after: [string, string] | undefined; let pages = 0, rows = 0;
t = performance.now();
for (;;) { const r = await storage.snapshotPage("room", { after, limit: 500 }); pages++; rows += r.length; if (r.length < 500) break; const l = r.at(-1)!; after = [l.entityType, l.entityId]; }
console.log(`snapshot pages ${pages} rows ${rows} in ${(performance.now() - t).toFixed(0)} ms`);
await storage.close();
