// One way for a test to make a synced client: a store of the test schema and a NetworkSyncEngine
// syncing it over a real `ws` socket, destroyed after the test. Tests name only what differs.
import { WebSocket } from "ws";
import { KalphiteStore } from "../../src/core/index.js";
import type { NetworkSyncEngineOptions, WebSocketConstructor } from "../../src/sync/index.js";
import { NetworkSyncEngine } from "../../src/sync/index.js";
import { Entity } from "../fixtures/schema.js";

/** A store of the test schema (`test/fixtures/schema.ts`). */
export type DevStore = ReturnType<typeof KalphiteStore<typeof Entity>>;

/** What a test may set: the server's url, and any engine option (the rest has defaults). */
export type DevClientOptions = Partial<Omit<NetworkSyncEngineOptions, "wsUrl">> & {
  /** The server's `ws://` url; defaults to a port nothing listens on (an offline client). */
  url?: string;
};

/** A client of the test schema: its store and the engine syncing it. */
export interface DevClient<S = DevStore> {
  store: S;
  engine: NetworkSyncEngine;
}

/** A url nothing listens on: the engine stays offline and queues. */
export const OFFLINE_URL = "ws://127.0.0.1:9";

/**
 * A store and an engine syncing it as `userId` (default "ann") in `roomId` (default "room")
 * over the `ws` package's socket; the engine is destroyed by `cleanups` after the test. Not
 * connected: call `engine.connect()`.
 *
 * @example const { store, engine } = devClient(cleanups, { url: server.url, userId: "bob" });
 */
export function devClient<S = DevStore>(
  cleanups: (() => Promise<unknown> | unknown)[],
  options: DevClientOptions & { store?: S } = {},
): DevClient<S> {
  // A spread engine config would bring its own wsUrl, silently replaced by the default below.
  if ("wsUrl" in options) throw new TypeError("devClient takes the server's address as `url`");
  const { url = OFFLINE_URL, store = KalphiteStore(Entity) as S, ...rest } = options;
  const engine = new NetworkSyncEngine({
    roomId: "room",
    userId: "ann",
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    ...rest,
    wsUrl: url,
    store: store as NetworkSyncEngineOptions["store"],
  });
  cleanups.push(() => engine.destroy());
  return { store, engine };
}
