import { existsSync } from "node:fs";
import { WebSocket } from "ws";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { KalphiteStore } from "../../src/index.js";
import { NetworkSyncEngine, type WebSocketConstructor } from "../../src/sync/index.js";
import { comment, Entity } from "../../test/fixtures/schema.js";
const dir = "/tmp/reload-100k";
const N = 100_000;
if (!existsSync(dir)) {
  const db = new FrontendDatabase({ dbName: dir, schema: Entity });
  const store = KalphiteStore(Entity);
  const persistence = await persist(store, db);
  const state = db.syncState("room");
  await state.load();
  const changes = [];
  for (let i = 0; i < N; i++) changes.push({ operation: "upsert" as const, entityType: "comment", entityId: `c${i}`, entity: comment(`c${i}`, { body: `comment ${i}`, lineNumber: i }, i) });
  store.apply(changes, "remote");
  for (let i = 0; i < N; i++) {
    const key = { entityType: "comment", entityId: `c${i}` };
    state.record({ kind: "version", version: { ...key, entity: store.comment.findById(`c${i}`)!, vector: { seeder: i + 1 }, seq: i + 1 }, shown: true }, key);
  }
  state.record({ kind: "cursor", cursor: N });
  await persistence.flush(); await state.flush();
  const engine = new NetworkSyncEngine({ wsUrl: "ws://127.0.0.1:9", roomId: "room", userId: "b", store, database: db, WebSocket: WebSocket as unknown as WebSocketConstructor });
  await engine.whenLoaded();
  for (let i = 0; i < 50; i++) store.comment.upsert(`p${i}`, comment(`p${i}`));
  await engine.whenPersisted(); await persistence.flush(); await engine.destroy(); await persistence.stop(); await db.close();
  console.log("seeded");
}
const mem = process.argv[2] === "mem";
for (let run = 0; run < 4; run++) {
  if (process.argv[2] !== "full") {
  globalThis.gc?.();
  const t0 = performance.now();
  const store = KalphiteStore(Entity);
  const db = new FrontendDatabase({ dbName: dir, schema: Entity });
  await db.init();
  const t1 = performance.now();
  const rows = await db.entities({});
  const t2 = performance.now();
  const st = await db.syncState("room").load();
  const t3 = performance.now();
  console.log(`init ${(t1-t0).toFixed(0)} entities ${(t2-t1).toFixed(0)} syncstate ${(t3-t2).toFixed(0)} n=${rows.length} v=${st?.versions.length}`);
  await db.close();
  }
  globalThis.gc?.();
  const s0 = performance.now();
  const store2 = KalphiteStore(Entity);
  const db2 = new FrontendDatabase({ dbName: dir, schema: Entity });
  const p = await persist(store2, db2);
  const s1 = performance.now();
  const engine = new NetworkSyncEngine({ wsUrl: "ws://127.0.0.1:9", roomId: "room", userId: "b", store: store2, database: db2, WebSocket: WebSocket as unknown as WebSocketConstructor });
  await engine.whenLoaded();
  const s2 = performance.now();
  console.log(`full: persist ${(s1-s0).toFixed(0)} engine ${(s2-s1).toFixed(0)} total ${(s2-s0).toFixed(0)}`);
  await engine.destroy(); await p.stop(); await db2.close();
}
process.exit(0);
