/**
 * The leader of this browser's database for one room and user, in a worker: every tab starts
 * one, the first to get the database's Web Lock leads and the others wait in line. The leader
 * owns PGlite (off the page's main thread: creating the database takes seconds on a first visit)
 * and the WebSocket, and serves every tab's store, its own tab's included, over a
 * BroadcastChannel (see kalphite.ts). When its tab closes, the next worker in line takes over.
 */

import { KalphiteStore } from "kalphite";
import type { Persistence } from "kalphite/database";
import {
  electTabLeader,
  indexedDbSnapshotCache,
  NetworkSyncEngine,
  previewTabs,
  type SyncConflict,
  serveTabs,
  type TabLeader,
} from "kalphite/sync";
import { watchEngineStatus } from "./engine-status.js";
import { type Comment, Entity } from "./schema.js";
import type { ConflictEvent, LeaderState, WorkerCommand, WorkerReport } from "./tab-protocol.js";

const report = (message: WorkerReport) => postMessage(message);
let online = true;
let stopLeading: (() => Promise<void>) | undefined;
let closing = false;

function describe(entity: unknown): { text: string; by: string } {
  if (entity === null || typeof entity !== "object") return { text: "(deleted)", by: "someone" };
  const data = (entity as Partial<Comment>).data;
  return { text: data?.body ?? JSON.stringify(data), by: data?.updatedBy ?? "someone" };
}

/** The sync server is served by the same origin as the app (see server.ts). */
function syncUrl(): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/sync`;
}

/** The engine's settings for the room, with or without this browser's database. */
function engineOptions(room: string, user: string) {
  return {
    wsUrl: syncUrl(),
    roomId: room,
    userId: user,
    // The demo server runs with insecure dev auth: it trusts the user id. See server.ts.
    authToken: "",
    conflictResolution: { strategy: "last-write-wins" as const },
    // Keep trying for as long as the page is open, at most 5 s apart.
    reconnectAttempts: Number.POSITIVE_INFINITY,
    reconnectDelay: 300,
    maxReconnectDelay: 5000,
  };
}

/** Resolves at the engine's first complete join, or after `ms` (offline, a slow server). */
function firstSync(engine: NetworkSyncEngine, ms: number): Promise<void> {
  return new Promise<void>((done) => {
    const timer = setTimeout(finish, ms);
    const stop = engine.on("synced", finish);
    function finish() {
      clearTimeout(timer);
      stop();
      done();
    }
  });
}

/**
 * A first visit: the tabs have nothing to show until PGlite has created its database (seconds),
 * so the room as the server has it goes to them at once, from a join of an engine without a
 * database (nothing is written through it), while PGlite opens.
 */
function previewFromServer(room: string, user: string, dbName: string): () => void {
  const store = KalphiteStore(Entity);
  const engine = new NetworkSyncEngine({ ...engineOptions(room, user), store });
  const stop = engine.on("synced", () => {
    previewTabs({ name: dbName, entities: store.entities() });
    void engine.destroy();
  });
  engine.connect().catch(() => {});
  return () => {
    stop();
    void engine.destroy();
  };
}

// PGlite's code is loaded while the leader is elected and the preview is shown.
const database = import("kalphite/database");

async function lead(command: Extract<WorkerCommand, { type: "start" }>): Promise<void> {
  const { room, user, dbName, tab } = command;
  const started = performance.now();
  const leadership = await electTabLeader({ name: dbName });
  const elected = performance.now();
  if (closing) return leadership.release();
  report({ type: "leading" });
  const cache = indexedDbSnapshotCache(dbName);
  // No cache: no leader ever ran in this browser (or its cache is gone), a first visit.
  const firstVisit = !(await cache.written().catch(() => false));
  const stopPreview = firstVisit && online ? previewFromServer(room, user, dbName) : () => {};
  const { FrontendDatabase, persist } = await database;
  const store = KalphiteStore(Entity);
  // The last leader let go of its lock when its worker went away; "wait" covers the moment
  // between the two.
  const db = new FrontendDatabase({ dbName, schema: Entity, lock: "wait" });
  let persistence: Persistence;
  let opened = 0;
  try {
    await db.init();
    opened = performance.now();
    persistence = await persist(store, db);
  } catch (error) {
    // Let another tab try: a database this worker cannot open may open in the next.
    stopPreview();
    cache.close();
    await db.close().catch(() => {});
    leadership.release();
    throw error;
  }
  const engine = new NetworkSyncEngine({
    ...engineOptions(room, user),
    store,
    // The outbox and the sync position live in the same database: they survive a reload.
    database: db,
  });

  let saveProblem: string | null = null;
  const durable = async () => {
    try {
      await Promise.all([persistence.flush(), engine.whenPersisted()]);
      // PGlite 0.5 copies a transaction's writes to IndexedDB only at the next query run
      // outside a transaction, so a plain read makes every earlier write durable.
      await db.getMeta("kalphite-review.durable");
      if (saveProblem !== null) {
        saveProblem = null;
        publish();
      }
    } catch (error) {
      saveProblem = `Changes are not being saved in this browser: ${error instanceof Error ? error.message : String(error)}`;
      publish();
      throw error;
    }
  };
  // Where opening the review spends its time, for the curious (and the browser benchmark).
  console.info(
    `[kalphite] leading ${dbName}: PGlite opened in ${Math.round(opened - elected)} ms, ${persistence.hydrated} entities loaded in ${Math.round(performance.now() - opened)} ms (worker started ${Math.round(elected - started)} ms before it led)`,
  );
  const connect = () => {
    if (online) engine.connect().catch(() => {});
    else void engine.disconnect();
  };
  connect();
  onlineChanged = connect;
  // On a first visit the tabs show the server's copy: the database's (empty) one would blank
  // them until the engine's join, so the tabs are served once the join is in.
  if (firstVisit && online) await firstSync(engine, 5000);
  stopPreview();
  const leader: TabLeader = serveTabs({
    store,
    name: dbName,
    durable,
    cache,
    onError: (error) => console.error("[kalphite] could not save locally", error),
  });
  let sync: LeaderState = {
    leaderTab: tab,
    connection: engine.getConnectionStatus(),
    outbox: engine.getOfflineQueueSize(),
    syncProblem: null,
    saveProblem,
  };
  function publish(): void {
    leader.publish({ ...sync, saveProblem } satisfies LeaderState);
  }
  const stopStatus = watchEngineStatus(engine, (status) => {
    sync = {
      ...sync,
      connection: status.connection,
      outbox: status.outbox,
      syncProblem: status.problem,
    };
    publish();
  });
  const stopConflicts = engine.on("conflict", (conflict: SyncConflict) => {
    if (conflict.entityType !== "comment") return;
    const mine = describe(conflict.attempted);
    const kept = describe(conflict.resolved);
    leader.notify({
      kind: "conflict",
      entityId: conflict.entityId,
      won: mine.text === kept.text,
      mine: mine.text,
      kept: kept.text,
      keptBy: kept.by,
      other: describe(conflict.current).by,
    } satisfies ConflictEvent);
  });
  const stopErrors = engine.on("error", (error) => console.warn("[kalphite sync]", error.message));

  stopLeading = async () => {
    stopStatus();
    stopConflicts();
    stopErrors();
    leader.close();
    cache.close();
    await engine.destroy();
    await persistence.stop();
    await db.close();
  };
}

let onlineChanged: () => void = () => {};

addEventListener("message", (event: MessageEvent<WorkerCommand>) => {
  const command = event.data;
  if (command.type === "start") {
    online = command.online;
    lead(command).catch((error: unknown) =>
      report({ type: "failed", message: error instanceof Error ? error.message : String(error) }),
    );
  } else if (command.type === "online") {
    online = command.online;
    onlineChanged();
  } else if (command.type === "close") {
    closing = true;
    void (stopLeading?.() ?? Promise.resolve())
      .catch((error: unknown) => console.error(error))
      .finally(() => report({ type: "closed" }));
  }
});
