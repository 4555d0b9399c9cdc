// NetworkSyncEngine refuses a configuration that cannot work, at construction, before it starts
// anything: a typo would otherwise surface only as a server refusing every change.
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { KalphiteStore, KalphiteUsageError } from "../../src/core/index.js";
import {
  type ConflictResolution,
  NetworkSyncEngine,
  type NetworkSyncEngineOptions,
  type SyncConflict,
} from "../../src/sync/index.js";
import { type Comment, comment, Entity } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, WS, waitUntil, withTimeout } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";
import { ManualClock } from "../support/manual-clock.js";

const cleanups = cleanupAfterEach();

/** Constructs with `extra` and returns what was thrown (or fails if nothing was). */
function thrownBy(extra: Partial<NetworkSyncEngineOptions> | Record<string, unknown>): Error {
  const started: string[] = [];
  const store = KalphiteStore(Entity);
  const watched = {
    ...store,
    onChange: (listener: never) => {
      started.push("store listener");
      return store.onChange(listener);
    },
  };
  const persistence = {
    load: async () => {
      started.push("load");
      return undefined;
    },
    record: () => {},
    flush: async () => {},
  };
  try {
    const engine = new NetworkSyncEngine({
      wsUrl: "ws://127.0.0.1:1",
      roomId: "r",
      userId: "ann",
      store: watched,
      persistence,
      WebSocket: WS,
      ...extra,
    } as NetworkSyncEngineOptions);
    cleanups.push(() => engine.destroy());
  } catch (error) {
    // Nothing started: no store listener, no load of the saved state.
    expect(started).toEqual([]);
    return error as Error;
  }
  throw new Error(`${JSON.stringify(extra)} was accepted`);
}

describe("conflictResolution is checked at construction", () => {
  it("refuses an unknown strategy, naming the valid ones", () => {
    const error = thrownBy({ conflictResolution: { strategy: "lww" } });
    expect(error).toBeInstanceOf(KalphiteUsageError);
    expect(error.message).toMatch(/conflictResolution\.strategy/);
    expect(error.message).toMatch(/"lww"/);
    expect(error.message).toMatch(/"last-write-wins", "operational-transform", "manual"/);
  });

  it("refuses manual without a resolver, and says how to keep the server's version", () => {
    const error = thrownBy({ conflictResolution: { strategy: "manual" } });
    expect(error).toBeInstanceOf(KalphiteUsageError);
    expect(error.message).toMatch(/needs a resolver/);
    expect(error.message).toMatch(/\(local, remote\) => remote/);
  });

  it("refuses a resolver that is not a function, and a conflictResolution that is not an object", () => {
    expect(
      thrownBy({ conflictResolution: { strategy: "manual", resolver: "mine" } }).message,
    ).toMatch(/resolver must be a function/);
    expect(thrownBy({ conflictResolution: "last-write-wins" }).message).toMatch(
      /conflictResolution must be an object/,
    );
  });

  it.each([
    // Ann edits the body, Bob (offline, later) the status of the same comment.
    ["last-write-wins", { body: "first", status: "resolved" }], // Bob's later version, whole
    ["operational-transform", { body: "ann's edit", status: "resolved" }], // both edits, merged
  ] as const)(
    "accepts %s, and the server resolves a concurrent edit by it",
    async (strategy, expected) => {
      const { ann, bob } = await concurrentEdits(
        { strategy },
        comment("c1", { body: "first", status: "resolved" }, 3),
      );
      const agreed = () =>
        bob.engine.getOfflineQueueSize() === 0 &&
        JSON.stringify(ann.store.comment.findById("c1")) ===
          JSON.stringify(bob.store.comment.findById("c1"));
      await waitUntil(agreed, { engines: [ann.engine, bob.engine] }, "ann and bob to agree");
      expect(bob.store.comment.findById("c1")?.data).toMatchObject(expected);
    },
  );

  it("manual with a resolver returning remote keeps the server's version and sends nothing", async () => {
    const conflicts: SyncConflict[] = [];
    const { bob } = await concurrentEdits(
      { strategy: "manual", resolver: (_local, remote) => remote },
      comment("c1", { body: "bob's concurrent edit" }),
      (engine) => engine.on("conflict", (conflict) => conflicts.push(conflict)),
    );
    await waitUntil(() => conflicts.length === 1, { engines: [bob.engine] }, "bob's conflict");
    expect((conflicts[0]?.attempted as { data?: unknown } | undefined)?.data).toMatchObject({
      body: "bob's concurrent edit",
    });
    expect(bob.store.comment.findById("c1")?.data.body).toBe("ann's edit");
    expect(bob.engine.getOfflineQueueSize()).toBe(0);
  });
});

/**
 * Ann and Bob on one room with `conflictResolution`: Ann writes c1 ("first"), Bob goes offline,
 * Ann edits its body ("ann's edit", acknowledged), Bob writes `bobsEdit` offline and reconnects
 * (after `beforeReconnect`, e.g. to listen for conflicts).
 */
async function concurrentEdits(
  conflictResolution: ConflictResolution,
  bobsEdit: Comment,
  beforeReconnect: (engine: NetworkSyncEngine) => void = () => {},
) {
  const server = await devServer(cleanups);
  const open = (userId: string) =>
    devClient(cleanups, { url: server.url, roomId: "r", userId, conflictResolution });
  const ann = open("ann");
  const bob = open("bob");
  await ann.engine.connect();
  await bob.engine.connect();
  ann.store.comment.upsert("c1", comment("c1", { body: "first" }));
  await waitUntil(
    () => bob.store.comment.findById("c1") !== undefined,
    { engines: [bob.engine] },
    "c1 at bob",
  );
  await bob.engine.disconnect();
  ann.store.comment.upsert("c1", comment("c1", { body: "ann's edit" }, 2));
  await waitUntil(
    () => ann.engine.getOfflineQueueSize() === 0,
    { engines: [ann.engine] },
    "ann's ack",
  );
  bob.store.comment.upsert("c1", bobsEdit);
  beforeReconnect(bob.engine);
  await bob.engine.connect();
  return { ann, bob };
}

describe("connection options are checked at construction", () => {
  it.each([
    [{ heartbeatInterval: 0 }, /heartbeatInterval must be a number of milliseconds from 20/],
    [{ heartbeatInterval: 1 }, /heartbeatInterval .* got 1\./],
    [{ heartbeatInterval: Number.NaN }, /heartbeatInterval .* got NaN/],
    [{ heartbeatInterval: Number.POSITIVE_INFINITY }, /heartbeatInterval .* got Infinity/],
    [{ heartbeatInterval: "15000" }, /heartbeatInterval .* got "15000"/],
    [{ heartbeatInterval: 2 ** 31 }, /heartbeatInterval .* to 2147483647/],
    [{ reconnectAttempts: -5 }, /reconnectAttempts must be a whole number ≥ 0 \(or Infinity/],
    [{ reconnectAttempts: 1.5 }, /reconnectAttempts .* got 1\.5/],
    [{ reconnectAttempts: Number.NaN }, /reconnectAttempts .* got NaN/],
    [{ reconnectDelay: 0 }, /reconnectDelay must be a number of milliseconds from 1/],
    [{ reconnectDelay: -1 }, /reconnectDelay/],
    [{ reconnectDelay: 1000, maxReconnectDelay: 10 }, /maxReconnectDelay .* from 1000/],
    [{ maxReconnectDelay: Number.POSITIVE_INFINITY }, /maxReconnectDelay/],
    [{ wsUrl: "http://localhost:8787" }, /ws:\/\/ or wss:\/\/ URL .* Use ws:\/\//],
    [{ wsUrl: "https://example.com/sync" }, /Use wss:\/\//],
    [{ wsUrl: "localhost:8787" }, /wsUrl must be an absolute ws:\/\/ or wss:\/\/ URL/],
    [{ wsUrl: "/sync" }, /wsUrl/],
    [{ wsUrl: undefined }, /wsUrl .* got undefined/],
    [{ roomId: "" }, /roomId must be a non-empty string/],
    [{ userId: 42 }, /userId must be a non-empty string .* got 42/],
    [{ authToken: 42 }, /authToken must be a string/],
    [{ WebSocket: "ws" }, /WebSocket must be a function/],
    [{ clock: { now: () => 0 } }, /clock must be an object .* missing setTimeout, clearTimeout/],
    [{ persistence: {} }, /persistence .* missing load, record, flush/],
    [{ store: {} }, /needs a KalphiteStore/],
  ])("refuses %j", (extra, message) => {
    const error = thrownBy(extra);
    expect(error).toBeInstanceOf(KalphiteUsageError);
    expect(error.message).toMatch(message);
  });

  it("accepts the documented ranges, Infinity reconnect attempts and wss:// URLs, and connects with them", async () => {
    const server = await devServer(cleanups);
    const opened: string[] = [];
    /** The real `ws` socket, recording the URL the engine opens. */
    class Recorded extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        opened.push(String(url));
        this.on("error", () => {});
      }
    }
    for (const extra of [
      { heartbeatInterval: 20, reconnectDelay: 1, maxReconnectDelay: 1 },
      { reconnectAttempts: 0 },
      { reconnectAttempts: Number.POSITIVE_INFINITY },
      { reconnectDelay: 60_000 }, // the default longest delay grows to match
    ]) {
      const store = KalphiteStore(Entity);
      const engine = devClient(cleanups, {
        url: server.url,
        roomId: "r",
        store,
        ...extra,
      }).engine;
      await withTimeout(engine.connect(), 5_000, `connect with ${JSON.stringify(extra)}`);
      expect(engine.getConnectionStatus()).toBe("connected");
    }
    // A wss:// URL (with a query) is opened as given; nothing listens there, so it stays offline.
    const engine = devClient(cleanups, {
      url: "wss://127.0.0.1:1/rooms?x=1",
      roomId: "r",
      WebSocket: Recorded as unknown as typeof WS,
      reconnectAttempts: 0,
    }).engine;
    await engine.connect().catch(() => {});
    expect(opened[0]).toMatch(/^wss:\/\/127\.0\.0\.1:1\/rooms\?x=1/);
  });

  it("with a short heartbeatInterval, connects to a real server and stays connected", async () => {
    const server = await devServer(cleanups);
    const clock = new ManualClock(Date.now());
    let answers = 0;
    let answered: () => void = () => {};
    /** The real `ws` socket, counting the server's answers to heartbeats. */
    class Observed extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        this.on("message", (data) => {
          if ((JSON.parse(String(data)) as { type?: string }).type !== "heartbeat") return;
          answers++;
          answered();
        });
      }
    }
    const engine = devClient(cleanups, {
      url: server.url,
      roomId: "r",
      WebSocket: Observed as unknown as typeof WS,
      heartbeatInterval: 50,
      clock,
    }).engine;
    const statuses: string[] = [];
    engine.on("status", (status) => statuses.push(status));
    // The engine handles the frames a socket read together on a 0 ms timer of its clock: run
    // those timers as frames arrive, until the welcome is handled.
    let connected = false;
    void engine.connect().then(() => {
      connected = true;
    });
    await withTimeout(
      (async () => {
        while (!connected) {
          clock.advance(0);
          await new Promise((resolve) => setImmediate(resolve));
        }
      })(),
      5_000,
      "connect",
    );
    // Six heartbeats, each answered before the next falls due: it neither drops nor reconnects.
    for (let i = 1; i <= 6; i++) {
      const answer = new Promise<void>((resolve) => {
        answered = resolve;
      });
      clock.advance(50);
      await withTimeout(answer, 5_000, `the answer to heartbeat ${i}`);
    }
    expect(answers).toBe(6);
    expect(statuses).toEqual(["connecting", "connected"]);
    expect(engine.getConnectionStatus()).toBe("connected");
  });
});
