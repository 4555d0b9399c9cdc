// End to end over real sockets on 127.0.0.1: the server is a separate kalphite-server process.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import { signToken } from "../../src/server/index.js";
import { memoryPersistence, type SyncPersistence } from "../../src/sync/index.js";
import { comment, Entity, review } from "../fixtures/schema.js";
import { devClient } from "../support/dev-client.js";
import {
  canonical,
  POSTGRES_URL,
  SECRET,
  type ServerProcess,
  startServerProcess,
  tempDir,
  uniqueName,
  waitUntil,
  withTimeout,
} from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(args: string[]): Promise<ServerProcess> {
  const process = await startServerProcess(args);
  cleanups.push(() => process.kill());
  return process;
}

function client(url: string, roomId: string, userId: string, persistence?: SyncPersistence) {
  const store = KalphiteStore(Entity);
  const engine = devClient(cleanups, {
    url,
    roomId,
    userId,
    authToken: signToken({ userId, rooms: [roomId] }, SECRET),
    store,
    heartbeatInterval: 1_000,
    reconnectDelay: 50,
    maxReconnectDelay: 500,
    reconnectAttempts: 1_000,
    ...(persistence ? { persistence } : {}),
  }).engine;
  return { store, engine };
}

type Client = ReturnType<typeof client>;
const sorted = (c: Client) =>
  c.store.entities().sort((a, b) => `${a.type}/${a.id}`.localeCompare(`${b.type}/${b.id}`));

function converged(clients: Client[]): () => boolean {
  return () => {
    const first = canonical(sorted(clients[0] as Client));
    return clients.every(
      (c) =>
        c.engine.getOfflineQueueSize() === 0 &&
        c.engine.getConnectionStatus() === "connected" &&
        canonical(sorted(c)) === first,
    );
  };
}

const sources = (clients: Client[]) => ({
  engines: clients.map((c) => c.engine),
  stores: clients.map((c) => c.store),
});

// A kalphite-server child process starts PGlite, whose WebAssembly start takes seconds on small machines.
describe("sync over real sockets", { timeout: 120_000 }, () => {
  // One PGlite server process shared by the tests that do not restart it (each uses its own room).
  let shared: ServerProcess;
  let sharedData: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    sharedData = tempDir();
    shared = await startServerProcess(["--port", "0", "--data-dir", sharedData.path]);
  }, 120_000);
  afterAll(async () => {
    await shared?.kill();
    sharedData?.remove();
  });

  it("two clients converge, with concurrent edits of one entity", async () => {
    const srv = shared;
    const room = uniqueName("room");
    const ann = client(srv.url, room, "ann");
    const bob = client(srv.url, room, "bob");
    await Promise.all([ann.engine.connect(), bob.engine.connect()]);
    ann.store.comment.upsert("c1", comment("c1", { body: "from ann" }, 1));
    bob.store.comment.upsert("c1", comment("c1", { body: "from bob" }, 2));
    bob.store.review.upsert("r1", review("r1", "Bob's review"));
    await waitUntil(
      () => converged([ann, bob])() && ann.store.review.findById("r1") !== undefined,
      sources([ann, bob]),
      "convergence",
      60_000,
    );
    // Last write wins by updatedAt: bob's (2) beats ann's (1).
    expect(ann.store.comment.findById("c1")?.data.body).toBe("from bob");
    expect(canonical(sorted(ann))).toBe(canonical(sorted(bob)));
  });

  it("an offline edit survives a client restart and converges after reconnecting", async () => {
    const srv = shared;
    const room = uniqueName("room");
    const persistence = memoryPersistence();
    const ann = client(srv.url, room, "ann", persistence);
    const bob = client(srv.url, room, "bob");
    await Promise.all([ann.engine.connect(), bob.engine.connect()]);
    ann.store.comment.upsert("c1", comment("c1"));
    await waitUntil(
      () => bob.store.comment.findById("c1") !== undefined,
      sources([ann, bob]),
      "c1 at bob",
    );

    await ann.engine.disconnect();
    ann.store.comment.upsert("c2", comment("c2", { body: "written offline" }));
    ann.store.comment.delete("c1");
    expect(ann.engine.getOfflineQueueSize()).toBe(2);
    await ann.engine.destroy(); // the process stops; its outbox is persisted

    const restarted = client(srv.url, room, "ann", persistence);
    await withTimeout(restarted.engine.whenPersisted(), 5_000, "state load");
    expect(restarted.store.comment.findById("c2")?.data.body).toBe("written offline");
    expect(restarted.engine.getOfflineQueueSize()).toBe(2);
    await restarted.engine.connect();
    await waitUntil(
      converged([restarted, bob]),
      sources([restarted, bob]),
      "convergence after restart",
    );
    expect(bob.store.comment.findById("c1")).toBeUndefined();
    expect(bob.store.comment.findById("c2")?.data.body).toBe("written offline");
  });

  it("a killed and restarted server loses nothing it acknowledged", async () => {
    const data = tempDir();
    cleanups.push(() => data.remove());
    let srv = await server(["--port", "0", "--data-dir", data.path]);
    const port = srv.port;
    const room = uniqueName("room");
    const ann = client(srv.url, room, "ann");
    await ann.engine.connect();
    const acked = new Set<string>();
    ann.engine.on("ack", (id) => acked.add(id));
    for (let i = 0; i < 20; i++)
      ann.store.comment.upsert(`c${i}`, comment(`c${i}`, { lineNumber: i }));
    await waitUntil(() => acked.size === 20, sources([ann]), "20 acks");
    await srv.kill();
    await waitUntil(
      () => ann.engine.getConnectionStatus() === "connecting",
      sources([ann]),
      "the client noticing",
    );
    ann.store.review.upsert("r1", review("r1")); // while the server is down
    srv = await server(["--port", String(port), "--data-dir", data.path]);
    await waitUntil(
      () =>
        ann.engine.getConnectionStatus() === "connected" && ann.engine.getOfflineQueueSize() === 0,
      sources([ann]),
      "reconnect and flush",
    );
    const fresh = client(srv.url, room, "carol");
    await fresh.engine.connect();
    expect(fresh.store.comment.length).toBe(20);
    expect(fresh.store.review.findById("r1")).toBeDefined();
  });

  it("two server processes on one PostgreSQL serve one room: a client on each converges", async () => {
    const prefix = `${uniqueName("t").toLowerCase()}_`;
    const one = await server(["--port", "0", "--postgres", POSTGRES_URL, "--table-prefix", prefix]);
    const two = await server(["--port", "0", "--postgres", POSTGRES_URL, "--table-prefix", prefix]);
    const room = uniqueName("room");
    const ann = client(one.url, room, "ann");
    const bob = client(two.url, room, "bob");
    await Promise.all([ann.engine.connect(), bob.engine.connect()]);
    for (let i = 0; i < 10; i++) {
      ann.store.comment.upsert(`a${i}`, comment(`a${i}`));
      bob.store.comment.upsert(`b${i}`, comment(`b${i}`));
    }
    ann.store.review.upsert("shared", review("shared", "ann's", 5));
    bob.store.review.upsert("shared", review("shared", "bob's", 6));
    await waitUntil(
      () =>
        converged([ann, bob])() &&
        ann.store.comment.length === 20 &&
        ann.store.review.findById("shared")?.data.title === "bob's",
      sources([ann, bob]),
      "cross-server convergence",
      20_000,
      () =>
        JSON.stringify(
          [ann, bob].map((c) => ({
            status: c.engine.getConnectionStatus(),
            queue: c.engine.getOfflineQueueSize(),
            cursor: c.engine.getCursor(),
            n: c.store.entities().length,
            shared: c.store.review.findById("shared"),
          })),
        ),
    );
    expect(canonical(sorted(ann))).toBe(canonical(sorted(bob)));
  });
});
