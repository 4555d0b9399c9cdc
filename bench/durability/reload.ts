// The reload the durability benchmark times, and its run in a process of its own.
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { KalphiteStore } from "../../src/index.js";
import { NetworkSyncEngine, type WebSocketConstructor } from "../../src/sync/index.js";
import { Entity } from "../../test/fixtures/schema.js";

export interface Reloaded {
  ms: number;
  entities: number;
  outbox: number;
}

/**
 * A persisted, synced client opened on `dbName` (or on `db`, left open) until its engine has
 * loaded: the store's entities, the confirmed versions and the outbox. Nothing connects.
 */
export async function reload(
  dbName: string,
  url: string,
  roomId: string,
  db?: FrontendDatabase<typeof Entity.infer>,
): Promise<Reloaded> {
  globalThis.gc?.();
  const t0 = performance.now();
  const store = KalphiteStore(Entity);
  const database = db ?? new FrontendDatabase({ dbName, schema: Entity });
  const persistence = await persist(store, database);
  const engine = new NetworkSyncEngine({
    wsUrl: url,
    roomId,
    userId: "bench",
    store,
    database,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  });
  await engine.whenLoaded();
  const elapsed = performance.now() - t0;
  const result = { ms: elapsed, entities: store.comment.length, outbox: engine.getOutbox().length };
  await engine.destroy();
  await persistence.stop();
  if (!db) await database.close();
  return result;
}

// As a script (`node --import tsx bench/durability/reload.ts <dir> <room>`): one reload in this
// fresh process, timed after its imports, printed as JSON. That is what an app's restart pays,
// with PGlite's WebAssembly and the store's code not compiled yet.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, room] = process.argv.slice(2);
  console.log(JSON.stringify(await reload(dir!, "ws://127.0.0.1:9", room!)));
  process.exit(0);
}
