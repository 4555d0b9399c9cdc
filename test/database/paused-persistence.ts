// A persisted store whose flush engine is paused, and its room's sync state loaded: for the tests
// that play the flush engine's part, batch by batch (`db.applyChanges`).
import { KalphiteStore } from "../../src/core/index.js";
import { FrontendDatabase, persist } from "../../src/database/index.js";
import { Entity } from "../fixtures/schema.js";

export async function pausedPersistence(
  cleanups: (() => unknown)[],
  options: { maxStorageMB?: number } = {},
) {
  const store = KalphiteStore(Entity);
  const db = new FrontendDatabase({ dbName: "memory://", schema: Entity, ...options });
  cleanups.push(() => db.close());
  const persistence = await persist(store, db);
  cleanups.push(() => persistence.stop().catch(() => {}));
  persistence.engine.pauseFlush();
  const state = db.syncState("room");
  await state.load();
  return { store, db, persistence, state };
}
