/**
 * All the Kalphite wiring of the demo in one place: the store, its persistence in the browser
 * (PGlite on IndexedDB) and its sync with the server. The components only see `Session`.
 */
import { computed, type ReadonlySignal, signal } from "@preact/signals-core";
import {
  FrontendDatabase,
  isDatabaseLocked,
  type Persistence,
  persist,
} from "../../../src/database/index.js";
import { KalphiteStore } from "../../../src/index.js";
import { NetworkSyncEngine, type SyncConflict } from "../../../src/sync/index.js";
import { type Comment, Entity } from "./schema.js";
import { createViews, type ReviewViews } from "./views.js";

export {
  useEntity,
  useLiveGroups,
  useLiveQuery,
  useSignalValue,
  useValue,
} from "../../../src/react/index.js";

export type ReviewStore = KalphiteStore<Entity>;
export type ConnectionStatus = "connected" | "connecting" | "disconnected";

/** A concurrent edit the server resolved, shown to the user until dismissed. */
export interface ConflictNotice {
  key: number;
  entityId: string;
  /** Whether this window's edit is the one every window now shows. */
  won: boolean;
  /** What this window had written. */
  mine: string;
  /** What every window now shows. */
  kept: string;
  /** Who wrote what every window now shows. */
  keptBy: string;
  /** Who made the other edit. */
  other: string;
}

export interface Session {
  readonly room: string;
  readonly user: string;
  readonly store: ReviewStore;
  /** The live queries the screens share. */
  readonly views: ReviewViews;
  /** The WebSocket connection to the sync server. */
  readonly connection: ReadonlySignal<ConnectionStatus>;
  /** Local changes not yet acknowledged by the server. */
  readonly outbox: ReadonlySignal<number>;
  /**
   * False when another tab of this browser has the room open as the same user: that tab owns the
   * local database (two PGlite instances on one IndexedDB database would overwrite each other),
   * so this one keeps everything in memory only, still synced live.
   */
  readonly storedOnDevice: boolean;
  /** True when every local change is written to this device's database (never in memory only). */
  readonly savedLocally: ReadonlySignal<boolean>;
  readonly conflicts: ReadonlySignal<readonly ConflictNotice[]>;
  dismissConflict(key: number): void;
  close(): Promise<void>;
}

export interface SessionOptions {
  room: string;
  user: string;
}

/** The sync server is served by the same origin as the app (see server.ts). */
function syncUrl(): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/sync`;
}

function describe(entity: unknown): { text: string; by: string } {
  if (entity === null || typeof entity !== "object") return { text: "(deleted)", by: "someone" };
  const data = (entity as Partial<Comment>).data;
  return { text: data?.body ?? JSON.stringify(data), by: data?.updatedBy ?? "someone" };
}

/** One database per room and user in this browser: `idb://kalphite-review-<room>-<user>`. */
function databaseName(room: string, user: string): string {
  const safe = (part: string) => encodeURIComponent(part).replace(/%/g, "_");
  return `idb://kalphite-review-${safe(room)}-${safe(user)}`;
}

/**
 * The sessions of this page by database name, each as the promise of its end: a session waits
 * for the previous one on its database (React's StrictMode opens, closes and opens again) rather
 * than finding the database locked by its own page.
 */
const sessionsEnded = new Map<string, Promise<void>>();

/**
 * Opens the review of one room as one user: hydrates from the local database, then syncs. When
 * another tab has that database open, the session runs in memory only (see `storedOnDevice`).
 */
export async function openSession(options: SessionOptions): Promise<Session> {
  const name = databaseName(options.room, options.user);
  const previous = sessionsEnded.get(name) ?? Promise.resolve();
  let ended!: () => void;
  const end = new Promise<void>((done) => {
    ended = done;
  });
  sessionsEnded.set(
    name,
    previous.then(() => end),
  );
  await previous;
  try {
    return await startSession(options, name, ended);
  } catch (error) {
    ended();
    throw error;
  }
}

async function startSession(
  { room, user }: SessionOptions,
  dbName: string,
  ended: () => void,
): Promise<Session> {
  const store = KalphiteStore(Entity);
  // PGlite in IndexedDB: the store is filled from it before the first render, and every change
  // (local or from the server) is written back in the background. One tab at a time: when
  // another tab has it open, init() refuses and this tab goes on in memory only.
  let db: FrontendDatabase<Entity> | undefined = new FrontendDatabase({ dbName, schema: Entity });
  let persistence: Persistence | undefined;
  try {
    await db.init();
    persistence = await persist(store, db);
  } catch (error) {
    await db.close();
    if (!isDatabaseLocked(error)) throw error;
    console.info(`[kalphite] ${error.message}`);
    db = undefined;
  }
  const connection = signal<ConnectionStatus>("disconnected");
  const outbox = signal(0);
  const pendingLocal = signal(0);
  const conflicts = signal<readonly ConflictNotice[]>([]);
  const cleanups: (() => void)[] = [];

  const engine = new NetworkSyncEngine({
    wsUrl: syncUrl(),
    roomId: room,
    userId: user,
    // The demo server runs with insecure dev auth: it trusts the user id. See server.ts.
    authToken: "",
    store,
    // The outbox and the sync position live in the same database: they survive a reload.
    // In memory only, the server sends the whole room and the outbox lives as long as the tab.
    ...(db ? { database: db } : {}),
    conflictResolution: { strategy: "last-write-wins" },
    // Keep trying for as long as the page is open, at most 5 s apart.
    reconnectAttempts: Number.POSITIVE_INFINITY,
    reconnectDelay: 300,
    maxReconnectDelay: 5000,
  });

  const refresh = () => {
    connection.value = engine.getConnectionStatus();
    outbox.value = engine.getOfflineQueueSize();
  };
  for (const event of ["status", "queue", "ack", "change", "synced", "conflict"] as const) {
    cleanups.push(engine.on(event, refresh));
  }
  cleanups.push(engine.on("error", (error) => console.warn("[kalphite sync]", error.message)));
  let conflictKey = 0;
  cleanups.push(
    engine.on("conflict", (conflict: SyncConflict) => {
      if (conflict.entityType !== "comment") return;
      const mine = describe(conflict.attempted);
      const kept = describe(conflict.resolved);
      const other = describe(conflict.current).by;
      conflicts.value = [
        ...conflicts.value,
        {
          key: ++conflictKey,
          entityId: conflict.entityId,
          won: mine.text === kept.text,
          mine: mine.text,
          kept: kept.text,
          keptBy: kept.by,
          other,
        },
      ];
    }),
  );

  // Local writes: counted until they are durable on this device.
  cleanups.push(
    store.onChange((change) => {
      if (change.origin !== "local") return;
      refresh();
      if (!db || !persistence) return;
      pendingLocal.value++;
      void Promise.all([persistence.flush(), engine.whenPersisted()])
        // PGlite 0.5 copies a transaction's writes to IndexedDB only at the next query run
        // outside a transaction (`transaction()` skips `syncToFs`), so a reload right after a
        // write could lose it. A plain read makes every earlier write durable.
        .then(() => db.getMeta("kalphite-review.durable"))
        .catch((error: unknown) => console.error("[kalphite] could not save locally", error))
        .finally(() => pendingLocal.value--);
    }),
  );

  // Follow the browser's own idea of being online: no reconnect attempts while it says offline.
  const goOffline = () => void engine.disconnect().then(refresh);
  const goOnline = () => {
    engine.connect().catch(() => {});
    refresh();
  };
  window.addEventListener("offline", goOffline);
  window.addEventListener("online", goOnline);
  cleanups.push(() => {
    window.removeEventListener("offline", goOffline);
    window.removeEventListener("online", goOnline);
  });
  const poll = setInterval(refresh, 1000);
  cleanups.push(() => clearInterval(poll));

  if (navigator.onLine) goOnline();
  refresh();

  return {
    room,
    user,
    store,
    views: createViews(store),
    connection,
    outbox,
    storedOnDevice: db !== undefined,
    savedLocally: computed(() => db !== undefined && pendingLocal.value === 0),
    conflicts,
    dismissConflict(key) {
      conflicts.value = conflicts.value.filter((notice) => notice.key !== key);
    },
    async close() {
      for (const cleanup of cleanups) cleanup();
      try {
        await engine.destroy();
        await persistence?.stop();
        await db?.close();
      } finally {
        ended();
      }
    },
  };
}
