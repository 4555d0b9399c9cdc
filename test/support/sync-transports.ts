// The transports a NetworkSyncEngine can sync over in tests, behind one interface, so that one
// suite runs over each: a real `ws` socket to a real sync server on 127.0.0.1 port 0, and the
// simulated network of test/sync/sim (virtual clock; nothing moves until the test moves it).
import { WebSocket } from "ws";
import { KalphiteStore } from "../../src/core/index.js";
import { insecureDevAuthenticator } from "../../src/server/auth.js";
import { SyncHub } from "../../src/server/hub/hub.js";
import {
  createSyncServer,
  entityValidator,
  memoryStorage,
  type SyncStorage,
} from "../../src/server/index.js";
import {
  type LogEntry,
  NetworkSyncEngine,
  type NetworkSyncEngineOptions,
  type WebSocketConstructor,
} from "../../src/sync/index.js";
import { Entity } from "../fixtures/schema.js";
import { waitUntil, withTimeout } from "../server/helpers.js";
import type { FakeWebSocket } from "../sync/sim/network.js";
import { SimNetwork } from "../sync/sim/network.js";
import { seededRandom } from "../sync/sim/random.js";
import { ManualClock } from "./manual-clock.js";

export type SyncTestStore = ReturnType<typeof KalphiteStore<typeof Entity>>;

/** One client of the room: its store and the engine syncing it. */
export interface SyncTestClient {
  userId: string;
  store: SyncTestStore;
  engine: NetworkSyncEngine;
}

/** Engine options a test may set (the transport sets the url, socket, clock and room). */
export type ClientOptions = Partial<
  Omit<NetworkSyncEngineOptions, "wsUrl" | "WebSocket" | "store" | "roomId" | "userId" | "clock">
>;

/** A server and the network to it; every client it made is destroyed by `close()`. */
export interface SyncTransport {
  readonly roomId: string;
  /** A new client of the room (not connected yet). */
  client(userId: string, options?: ClientOptions): SyncTestClient;
  /**
   * Resolves once `check()` holds: over the socket, re-checked on every engine event and store
   * change, with a bounded timeout; on the simulated network, delivering messages in order and
   * running the virtual clock's timers in between, for a bounded number of steps.
   */
  until(check: () => boolean, what: string): Promise<void>;
  /** `promise`'s value, once it settles (moving the network as `until` does). */
  settle<T>(promise: Promise<T>, what: string): Promise<T>;
  /**
   * The network loses the client's connection abruptly: what it already sent may reach the
   * server (on the simulated network it does), replies on the way are lost. The engine
   * reconnects by itself.
   */
  loseConnection(client: SyncTestClient): void;
  /**
   * Lets `ms` of time pass with the network running: on the simulated network, virtual time
   * (every timer due runs). Real time is never slept away: over the socket it returns at once.
   */
  elapse(ms: number): Promise<void>;
  /** The room's log as the server stored it. */
  log(): Promise<LogEntry[]>;
  close(): Promise<void>;
}

/** The options every test client gets: quick reconnects, so a lost connection heals soon. */
const QUICK = { reconnectDelay: 10, maxReconnectDelay: 50, reconnectAttempts: 1_000 };

type SocketClass<Socket> = new (url: string) => Socket;

/** A transport's clients, and every socket each one opened (its latest is the live one). */
class Clients<Socket extends object> {
  readonly all: SyncTestClient[] = [];
  readonly #sockets = new Map<SyncTestClient, Socket[]>();
  readonly #Socket: SocketClass<Socket>;

  constructor(Socket: SocketClass<Socket>) {
    this.#Socket = Socket;
  }

  /** A client whose engine opens its sockets with a subclass of `Socket` that records them. */
  add(userId: string, options: Omit<NetworkSyncEngineOptions, "store" | "WebSocket">) {
    const opened: Socket[] = [];
    const Tracked = class extends (this.#Socket as SocketClass<object>) {
      constructor(url: string) {
        super(url);
        opened.push(this as unknown as Socket); // a subclass of Socket: TS cannot follow the mixin
      }
    };
    const store = KalphiteStore(Entity);
    const engine = new NetworkSyncEngine({
      ...options,
      store,
      WebSocket: Tracked as unknown as WebSocketConstructor,
    });
    const client = { userId, store, engine };
    this.all.push(client);
    this.#sockets.set(client, opened);
    return client;
  }

  latestSocket(client: SyncTestClient): Socket | undefined {
    return this.#sockets.get(client)?.at(-1);
  }

  async destroy(): Promise<void> {
    for (const client of this.all) await client.engine.destroy();
  }
}

/**
 * A real sync server (memory storage, development auth, the entity schema) on a free loopback
 * port, and clients on real `ws` sockets.
 *
 * @example const transport = await socketTransport(); const ann = transport.client("ann");
 */
export async function socketTransport(roomId = "room"): Promise<SyncTransport> {
  const storage = memoryStorage();
  const server = await createSyncServer({
    port: 0,
    host: "127.0.0.1",
    storage,
    schema: Entity,
    allowInsecureDevAuth: true,
    warn: () => {},
  });
  const clients = new Clients(WebSocket);
  const timeout = 20_000;
  return {
    roomId,
    client: (userId, options = {}) =>
      clients.add(userId, { ...QUICK, ...options, wsUrl: server.url, roomId, userId }),
    until: (check, what) =>
      waitUntil(
        check,
        { engines: clients.all.map((c) => c.engine), stores: clients.all.map((c) => c.store) },
        what,
        timeout,
      ),
    settle: (promise, what) => withTimeout(promise, timeout, what),
    loseConnection(client) {
      clients.latestSocket(client)?.terminate();
    },
    elapse: async () => {},
    log: () => storage.entriesAfter(roomId, 0, 10_000),
    async close() {
      await clients.destroy();
      await server.close();
    },
  };
}

/** One turn of the event loop (the hub waits one before each commit). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A SyncHub on memory storage behind the simulated network of test/sync/sim, with a manual
 * clock shared by the hub and every engine: the network moves only inside `until`, `settle`
 * and `elapse`, delivering the oldest message first, so every run is the same.
 *
 * @example const transport = simulatedTransport(); const ann = transport.client("ann");
 */
export function simulatedTransport(roomId = "room", seed = 1): SyncTransport {
  const clock = new ManualClock();
  const random = seededRandom(seed);
  const network = new SimNetwork();
  const storage: SyncStorage = memoryStorage();
  const failures: unknown[] = [];
  const hub = new SyncHub({
    storage,
    authenticate: insecureDevAuthenticator,
    validate: entityValidator(Entity),
    now: clock.now,
    compaction: false,
    onError: (error) => failures.push(error),
  });
  network.hub = hub;
  const clients = new Clients<FakeWebSocket>(network.WebSocket);
  let ids = 0;
  const maxSteps = 20_000;

  /** Lets promises and the hub's turns settle, then moves the network one step. */
  async function step(): Promise<void> {
    for (let i = 0; i < 3; i++) await turn();
    if (failures.length > 0) throw failures[0];
    if (network.inFlight.length > 0) network.deliver(0);
    else clock.next();
  }

  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < maxSteps; i++) {
      for (let t = 0; t < 3; t++) await turn();
      if (check()) return;
      await step();
    }
    throw new Error(`Not reached after ${maxSteps} steps of the simulated network: ${what}`);
  }

  return {
    roomId,
    client: (userId, options = {}) =>
      clients.add(userId, {
        ...QUICK,
        heartbeatInterval: 1_000,
        createMessageId: () => `${userId}-${ids++}`,
        ...options,
        wsUrl: "ws://simulated.invalid",
        roomId,
        userId,
        clock,
        random,
      }),
    until,
    async settle<T>(promise: Promise<T>, what: string): Promise<T> {
      let settled = false;
      const observed = promise.finally(() => {
        settled = true;
      });
      observed.catch(() => {});
      await until(() => settled, what);
      return observed;
    },
    loseConnection(client) {
      const connection = clients.latestSocket(client)?.connection;
      if (!connection) return;
      // What the client sent reaches the server; the replies are lost with the connection.
      for (let i = 0; i < network.inFlight.length; ) {
        const message = network.inFlight[i]!;
        if (message.connection === connection && message.toServer) network.deliver(i);
        else i++;
      }
      network.closeConnection(connection);
    },
    async elapse(ms) {
      const until = clock.now() + ms;
      while (true) {
        for (let t = 0; t < 3; t++) await turn();
        if (network.inFlight.length > 0) network.deliver(0);
        else if ((clock.nextAt ?? Number.POSITIVE_INFINITY) <= until) clock.next();
        else break;
      }
      clock.advance(Math.max(0, until - clock.now()));
    },
    log: () => storage.entriesAfter(roomId, 0, 10_000),
    async close() {
      await clients.destroy();
      await hub.close();
      if (failures.length > 0) throw failures[0];
    },
  };
}
