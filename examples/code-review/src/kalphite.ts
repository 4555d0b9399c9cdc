/**
 * All the Kalphite wiring of the page in one place. The components only see `Session`.
 *
 * Every tab of one room and user shares one database in this browser. The tab's store mirrors
 * the leader's (`mirrorTabs`), and its writes go to the leader, which persists them in PGlite
 * and syncs them with the server. The leader is a worker (leader.worker.ts): each tab starts
 * one, the first to get the database's Web Lock leads, and when its tab closes the next one
 * takes over; a tab keeps its writes until the leader confirms them saved and sends them again
 * to a new leader, so closing any tab loses nothing.
 */
import { computed, type ReadonlySignal, signal } from "@preact/signals-core";
import { KalphiteStore } from "kalphite";
import { type ConnectionStatus, indexedDbSnapshotCache, mirrorTabs } from "kalphite/sync";
import { Entity } from "./schema.js";
import type { ConflictEvent, LeaderState, WorkerCommand, WorkerReport } from "./tab-protocol.js";
import { createViews, type ReviewViews } from "./views.js";

export type ReviewStore = KalphiteStore<Entity>;
export type { ConnectionStatus };

/** A concurrent edit the server resolved, shown to the user until dismissed. */
export interface ConflictNotice extends Omit<ConflictEvent, "kind"> {
  key: number;
}

export interface Session {
  readonly room: string;
  readonly user: string;
  readonly store: ReviewStore;
  /** The live queries the screens share. */
  readonly views: ReviewViews;
  /** The leader's WebSocket connection to the sync server. */
  readonly connection: ReadonlySignal<ConnectionStatus>;
  /** Changes not yet acknowledged by the server (this tab's unsaved ones included). */
  readonly outbox: ReadonlySignal<number>;
  /** Why changes are stuck although connected (a refusal, a stall), or null. */
  readonly syncProblem: ReadonlySignal<string | null>;
  /** Why changes are not being saved in this browser, or null. */
  readonly saveProblem: ReadonlySignal<string | null>;
  /**
   * False while the page shows a preview (this browser's copy of the room, or the server's on
   * a first visit) and the leader still opens the database; writes wait in the tab meanwhile.
   */
  readonly opened: ReadonlySignal<boolean>;
  /** True when every change made in this tab is in this browser's database. */
  readonly savedLocally: ReadonlySignal<boolean>;
  /** True when this tab's worker owns the database and the connection. */
  readonly leading: ReadonlySignal<boolean>;
  readonly conflicts: ReadonlySignal<readonly ConflictNotice[]>;
  dismissConflict(key: number): void;
  close(): Promise<void>;
}

export interface SessionOptions {
  room: string;
  user: string;
}

/** One database per room and user in this browser: `idb://kalphite-review-<room>-<user>`. */
function databaseName(room: string, user: string): string {
  const safe = (part: string) => encodeURIComponent(part).replace(/%/g, "_");
  return `idb://kalphite-review-${safe(room)}-${safe(user)}`;
}

/** How long a closing session waits for its worker to close the database before ending it. */
const CLOSE_TIMEOUT_MS = 3000;

/**
 * Opens the review of one room as one user: resolves once the store shows the room, from the
 * copy the leader keeps for this (or, on a first visit, the server's) while the leader opens
 * the database, then what the leader holds (this browser's database, then the server's changes).
 */
export async function openSession({ room, user }: SessionOptions): Promise<Session> {
  const dbName = databaseName(room, user);
  const store = KalphiteStore(Entity);
  // Subscribed before any data arrives, the big views index each part of the preview and of
  // the leader's snapshot as it is applied (a task each), instead of sorting the whole room in
  // one piece during the first render.
  const views = createViews(store);
  const cleanups: (() => void)[] = [
    views.threads.subscribe(() => {}),
    views.byStatus.subscribe(() => {}),
  ];
  const cache = indexedDbSnapshotCache(dbName);
  const mirror = mirrorTabs({ store, name: dbName, cache });
  const opened = signal(false);
  void mirror.ready.then(() => {
    opened.value = true;
    cache.close();
  });
  const worker = new Worker(new URL("./leader.worker.ts", import.meta.url), {
    type: "module",
    name: `kalphite leader ${room}/${user}`,
  });
  const command = (message: WorkerCommand) => worker.postMessage(message);

  const failed = new Promise<never>((_, reject) => {
    const onReport = (event: MessageEvent<WorkerReport>) => {
      if (event.data.type === "failed")
        reject(new Error(`This browser's database could not be opened: ${event.data.message}`));
    };
    worker.addEventListener("message", onReport);
    worker.addEventListener("error", (event) =>
      reject(new Error(`The database worker failed: ${event.message}`)),
    );
  });
  command({ type: "start", room, user, dbName, tab: mirror.id, online: navigator.onLine });

  // The browser's idea of being online goes to the worker: it stops reconnecting while offline.
  const goOnline = () => command({ type: "online", online: true });
  const goOffline = () => command({ type: "online", online: false });
  // Writes made while the database still opens wait in this tab: leaving would lose them.
  const keepUnsaved = (event: BeforeUnloadEvent) => {
    if (!opened.peek() && mirror.pending.peek() > 0) event.preventDefault();
  };
  window.addEventListener("beforeunload", keepUnsaved);
  window.addEventListener("online", goOnline);
  window.addEventListener("offline", goOffline);
  cleanups.push(() => {
    window.removeEventListener("beforeunload", keepUnsaved);
    window.removeEventListener("online", goOnline);
    window.removeEventListener("offline", goOffline);
  });

  try {
    await Promise.race([mirror.shown, failed]);
  } catch (error) {
    for (const cleanup of cleanups) cleanup();
    mirror.close();
    cache.close();
    worker.terminate();
    throw error;
  }
  // Shown from a preview, the database may still fail to open: said in the page, not only logged.
  const openProblem = signal<string | null>(null);
  void failed.catch((error: unknown) => {
    console.error("[kalphite]", error);
    openProblem.value = error instanceof Error ? error.message : String(error);
  });

  const leaderState = computed(() => mirror.state.value as LeaderState | undefined);
  const conflicts = signal<readonly ConflictNotice[]>([]);
  let conflictKey = 0;
  cleanups.push(
    mirror.onEvent((event) => {
      const notice = event as ConflictEvent;
      if (notice?.kind !== "conflict") return;
      const { kind: _, ...rest } = notice;
      conflicts.value = [...conflicts.value, { key: ++conflictKey, ...rest }];
    }),
  );

  return {
    room,
    user,
    store,
    views,
    connection: computed(() => leaderState.value?.connection ?? "connecting"),
    outbox: computed(() => (leaderState.value?.outbox ?? 0) + mirror.pending.value),
    syncProblem: computed(() => leaderState.value?.syncProblem ?? null),
    saveProblem: computed(() => openProblem.value ?? leaderState.value?.saveProblem ?? null),
    opened,
    savedLocally: computed(
      () =>
        opened.value &&
        mirror.pending.value === 0 &&
        (leaderState.value?.saveProblem ?? null) === null,
    ),
    leading: computed(() => leaderState.value?.leaderTab === mirror.id),
    conflicts,
    dismissConflict(key) {
      conflicts.value = conflicts.value.filter((notice) => notice.key !== key);
    },
    async close() {
      for (const cleanup of cleanups) cleanup();
      mirror.close();
      cache.close();
      await new Promise<void>((done) => {
        const timer = setTimeout(done, CLOSE_TIMEOUT_MS);
        worker.addEventListener("message", (event: MessageEvent<WorkerReport>) => {
          if (event.data.type !== "closed") return;
          clearTimeout(timer);
          done();
        });
        command({ type: "close" });
      });
      worker.terminate();
    },
  };
}
