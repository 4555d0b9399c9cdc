import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { KalphiteStore } from "../../src/index.js";
import { decideChange } from "../../src/server/conflict.js";
import { pgliteStorage } from "../../src/server/index.js";
import { NetworkSyncEngine, type WebSocketConstructor } from "../../src/sync/index.js";
import { comment, Entity } from "../../test/fixtures/schema.js";
const CLI = fileURLToPath(new URL("../../src/server/cli.ts", import.meta.url));
const N = Number(process.argv[2] ?? 100_000);
const srvDir = `/tmp/srv-${N}`;
if (!existsSync(srvDir)) {
  const storage = await pgliteStorage({ dataDir: srvDir });
  for (let start = 0; start < N; start += 5_000) {
    const changes = [];
    for (let i = start; i < Math.min(N, start + 5_000); i++) changes.push({ messageId: `seed-${i}`, userId: "seeder", timestamp: i, operation: "upsert" as const, entityType: "comment", entityId: `c${i}`, entity: comment(`c${i}`, { body: `comment ${i}`, lineNumber: i }, i), vector: {}, strategy: "last-write-wins" as const });
    await storage.commit("room", changes, (change, current) => decideChange(current, change, (e: unknown) => e as never));
  }
  await storage.close();
  console.log("seeded");
}
const child: ChildProcess = spawn(process.execPath, [...(process.env.PROF ? ["--cpu-prof", "--cpu-prof-dir=/tmp/srvprof"] : []), "--import", "tsx", CLI, "--port", "0", "--data-dir", srvDir, "--insecure"], { stdio: ["ignore", "pipe", "inherit"] });

const url = await new Promise<string>((resolve) => { let out = ""; child.stdout!.on("data", (c: Buffer) => { out += c; const m = /listening on (ws:\/\/\S+)/.exec(out); if (m?.[1]) resolve(m[1]); }); });
for (const dbName of [process.argv[3] ?? "memory://"]) {
  const dir = dbName === "dir" ? "/tmp/join-client" : "memory://";
  rmSync("/tmp/join-client", { recursive: true, force: true });
  const store = KalphiteStore(Entity);
  const db = new FrontendDatabase({ dbName: dir, schema: Entity });
  const persistence = await persist(store, db);
  const engine = new NetworkSyncEngine({ wsUrl: url, roomId: "room", userId: "b", store, database: db, WebSocket: WebSocket as unknown as WebSocketConstructor });
  await engine.whenLoaded();
  const t0 = performance.now(); const c0 = process.cpuUsage();
  let firstChange = 0; let changes = 0;
  engine.on("change", () => { changes++; if (!firstChange) firstChange = performance.now() - t0; });
  await engine.connect();
  const tc = performance.now() - t0;
  while (engine.getCursor() < N) await new Promise((r) => setTimeout(r, 20));
  const applied = performance.now() - t0;
  await engine.whenPersisted(); await persistence.flush();
  const done = performance.now() - t0; const cpu = process.cpuUsage(c0);
  console.log(`${dir}: connect ${tc.toFixed(0)} first change ${firstChange.toFixed(0)} applied ${applied.toFixed(0)} persisted ${done.toFixed(0)} ms; client CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms; ${store.comment.length} entities, ${changes} change events`);
  await engine.destroy(); await persistence.stop(); await db.close();
}
child.kill("SIGTERM"); await new Promise((r) => child.once("exit", r));
process.exit(0);
