// postgresStorage's LISTEN connection survives being killed: two sync servers share one
// PostgreSQL, the listener of one is terminated, and writes through the other (one made while it
// is down, one after it is back) still reach the first one's client live, once each. Clients
// here are raw sockets that never send heartbeats, so only the live broadcast can deliver.
import { createServer, connect as netConnect, type Socket } from "node:net";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { KalphitePersistenceError } from "../../src/core/index.js";
import { decideChange, type IncomingChange } from "../../src/server/conflict.js";
import {
  createSyncServer,
  insecureDevAuthenticator,
  postgresStorage,
  type SyncStorage,
} from "../../src/server/index.js";
import { comment } from "../fixtures/schema.js";
import { ManualClock, turn } from "../support/manual-clock.js";
import { cleanupAfterEach, envelope, POSTGRES_URL, uniqueName, withTimeout } from "./helpers.js";

const cleanups = cleanupAfterEach();

/** Resolves once `check()` is true, checking every 25 ms; fails after `ms` with `what`. */
async function poll(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function admin(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, application_name: "test-admin" });
  client.on("error", () => {});
  await client.connect();
  cleanups.push(() => client.end());
  return client;
}

async function backends(db: pg.Client, applicationName: string): Promise<number> {
  const result = await db.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
    [applicationName],
  );
  return result.rows[0].n as number;
}

async function terminate(db: pg.Client, applicationName: string): Promise<number> {
  const result = await db.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    [applicationName],
  );
  return result.rowCount ?? 0;
}

/** A socket client that records every message; it never sends heartbeats or reconnects. */
async function socketClient(url: string, room: string, userId: string) {
  const socket = new WebSocket(url);
  socket.on("error", () => {});
  const received: Record<string, any>[] = [];
  /** How many times each seq reached this client (change, ack or catch-up). */
  const seqs = new Map<number, number>();
  socket.on("message", (data) => {
    const message = JSON.parse(data.toString()) as Record<string, any>;
    received.push(message);
    const p = message.payload;
    const count = (seq: number) => seqs.set(seq, (seqs.get(seq) ?? 0) + 1);
    if (message.type === "change") count(p.seq);
    if (message.type === "ack" || message.type === "conflict") count(p.entry.seq);
    if (message.type === "catch-up" || message.type === "welcome")
      for (const entry of p.entries ?? []) count(entry.seq);
  });
  cleanups.push(() => socket.close());
  await withTimeout(new Promise((resolve) => socket.once("open", resolve)), 30_000, "open");
  socket.send(
    JSON.stringify(envelope("hello", { protocol: 1, roomId: room, token: "", cursor: 0 }, userId)),
  );
  await poll(() => received.some((m) => m.type === "welcome"), `${userId}'s welcome`);
  let n = 0;
  return {
    socket,
    received,
    seqs,
    /** Upserts comment `id`; resolves with the seq of its ack. */
    async write(id: string): Promise<number> {
      const messageId = `${userId}-${n++}`;
      socket.send(
        JSON.stringify(
          envelope(
            "change",
            {
              operation: "upsert",
              entityType: "comment",
              entityId: id,
              entity: comment(id),
              vector: {},
            },
            userId,
            messageId,
          ),
        ),
      );
      let seq = 0;
      await poll(() => {
        const ack = received.find((m) => m.type === "ack" && m.payload.ackedId === messageId);
        seq = ack?.payload.entry.seq ?? 0;
        return seq > 0;
      }, `the ack of ${messageId}`);
      return seq;
    },
  };
}

function change(messageId: string, id: string): IncomingChange {
  return {
    messageId,
    userId: "u",
    timestamp: 1,
    operation: "upsert",
    entityType: "comment",
    entityId: id,
    entity: comment(id),
    vector: {},
    strategy: "last-write-wins",
  };
}

const decide = (incoming: IncomingChange, current: Parameters<typeof decideChange>[0]) =>
  decideChange(current, incoming, (e) => e);

async function storageFor(
  tablePrefix: string,
  applicationName: string,
  errors: unknown[],
  clock?: ManualClock,
): Promise<SyncStorage> {
  const storage = await postgresStorage({
    url: POSTGRES_URL,
    tablePrefix,
    applicationName,
    onError: (error) => errors.push(error),
    ...(clock ? { listener: { clock } } : {}),
  });
  cleanups.push(() => storage.close());
  return storage;
}

/**
 * A TCP proxy to PostgreSQL whose open connections can be frozen: they stay open but carry
 * nothing, like a peer behind a dead network path (no error, no close). New connections work.
 */
async function freezableProxy() {
  const target = new URL(POSTGRES_URL);
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((down) => {
    const up = netConnect(Number(target.port || 5432), target.hostname);
    const pair: [Socket, Socket] = [down, up];
    pairs.add(pair);
    const drop = () => {
      down.destroy();
      up.destroy();
      pairs.delete(pair);
    };
    for (const socket of pair) socket.on("error", drop).on("close", drop);
    down.pipe(up);
    up.pipe(down);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(POSTGRES_URL);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    freeze() {
      for (const [down, up] of pairs) {
        down.unpipe(up);
        up.unpipe(down);
        down.pause();
        up.pause();
      }
    },
    async close() {
      for (const [down, up] of pairs) {
        down.destroy();
        up.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("the PostgreSQL LISTEN connection", { timeout: 180_000 }, () => {
  it("reconnects after pg_terminate_backend: writes made while it was down and after reach the other server's client live, once", async () => {
    const db = await admin();
    const prefix = `${uniqueName("l").toLowerCase()}_`;
    const appA = uniqueName("ka");
    const appB = uniqueName("kb");
    const errorsA: unknown[] = [];
    const errorsB: unknown[] = [];
    // A reconnects only when its clock says so: after B has committed while it is down.
    const clockA = new ManualClock();
    const storageA = await storageFor(prefix, appA, errorsA, clockA);
    const storageB = await storageFor(prefix, appB, errorsB);
    const serverErrors: unknown[] = [];
    const servers = await Promise.all(
      [storageA, storageB].map((storage) =>
        createSyncServer({
          port: 0,
          storage,
          authenticate: insecureDevAuthenticator,
          onError: (error) => serverErrors.push(error),
        }),
      ),
    );
    for (const server of servers) cleanups.push(() => server.close());
    const [serverA, serverB] = servers as [(typeof servers)[0], (typeof servers)[0]];
    const room = uniqueName("room");
    const ann = await socketClient(serverA.url, room, "ann"); // on A, only watches
    const bob = await socketClient(serverB.url, room, "bob"); // on B, writes

    // Live before anything breaks.
    const first = await bob.write("before");
    await poll(() => ann.seqs.has(first), `ann to get seq ${first} (listener up)`);

    expect(await backends(db, `${appA}:listen`)).toBe(1);
    expect(await terminate(db, `${appA}:listen`)).toBe(1);
    await poll(async () => (await backends(db, `${appA}:listen`)) === 0, "the backend to exit");
    await poll(() => errorsA.length > 0, "A to notice its listener is gone");
    expect(errorsA[0]).toBeInstanceOf(KalphitePersistenceError);
    expect(String((errorsA[0] as Error).message)).toMatch(/LISTEN connection was lost/);

    const during = await bob.write("during");
    // Committed while A was not listening: no NOTIFY of it can ever reach A.
    expect(await backends(db, `${appA}:listen`)).toBe(0);
    expect(ann.seqs.has(during)).toBe(false);

    expect(clockA.pending).toBe(1); // the reconnect, waiting for its backoff
    clockA.next();
    await poll(() => ann.seqs.has(during), `ann to get seq ${during} (written while down)`);
    await poll(async () => (await backends(db, `${appA}:listen`)) === 1, "A to listen again");

    const after = await bob.write("after");
    await poll(() => ann.seqs.has(after), `ann to get seq ${after} (written after reconnect)`);

    // Each entry reached ann exactly once, over the socket she opened first.
    expect([...ann.seqs.entries()].sort(([x], [y]) => x - y)).toEqual([
      [first, 1],
      [during, 1],
      [after, 1],
    ]);
    expect(ann.received.filter((m) => m.type === "welcome")).toHaveLength(1);
    expect(ann.socket.readyState).toBe(WebSocket.OPEN);
    expect(errorsA).toHaveLength(1);
    expect(errorsB).toEqual([]);
    expect(serverErrors).toEqual([]);
  });

  it("closing the storage while it waits to reconnect leaves no connection or timer behind", async () => {
    const db = await admin();
    const prefix = `${uniqueName("l").toLowerCase()}_`;
    const app = uniqueName("kc");
    const errors: unknown[] = [];
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const timersBefore = timers();
    const clock = new ManualClock();
    const storage = await postgresStorage({
      url: POSTGRES_URL,
      tablePrefix: prefix,
      applicationName: app,
      onError: (error) => errors.push(error),
      listener: { clock },
    });
    expect(await storage.head("some-room")).toBe(0);
    expect(await terminate(db, `${app}:listen`)).toBe(1);
    await poll(() => errors.length > 0, "the storage to notice its listener is gone");
    expect(clock.pending).toBe(1); // the reconnect, waiting for its backoff

    await withTimeout(storage.close(), 15_000, "close");
    expect(clock.pending).toBe(0);
    await poll(
      async () => (await backends(db, app)) + (await backends(db, `${app}:listen`)) === 0,
      "every connection of the storage to end",
    );
    expect(timers()).toBeLessThanOrEqual(timersBefore);
    // Past the moment it would have reconnected: still nothing.
    clock.advance(60_000);
    await turn();
    expect(await backends(db, `${app}:listen`)).toBe(0);
    expect(errors).toHaveLength(1);
  });

  it("closing the storage while it reconnects (repeatedly, at random moments) leaves nothing behind", async () => {
    const db = await admin();
    for (let i = 0; i < 6; i++) {
      const app = uniqueName("kd");
      const clock = new ManualClock();
      const errors: unknown[] = [];
      const storage = await postgresStorage({
        url: POSTGRES_URL,
        tablePrefix: `${uniqueName("l").toLowerCase()}_`,
        applicationName: app,
        onError: (error) => errors.push(error),
        listener: { clock },
      });
      await storage.head("r");
      await terminate(db, `${app}:listen`);
      // A different moment each time: before the loss is noticed, while waiting to reconnect,
      // and (after the backoff) after 0, 1, 4, 16 turns of connecting, listening, catching up.
      if (i > 0) {
        await poll(() => errors.length > 0, "the storage to notice its listener is gone");
        if (i > 1) {
          clock.next();
          for (let t = 0; t < 4 ** (i - 2) - 1; t++) await turn();
        }
      }
      await withTimeout(storage.close(), 15_000, "close");
      await poll(
        async () => (await backends(db, app)) + (await backends(db, `${app}:listen`)) === 0,
        "every connection of the storage to end",
      );
      // No timer is left to reconnect later, whatever time it is.
      expect(clock.pending).toBe(0);
      clock.advance(60_000);
      await turn();
      expect(await backends(db, `${app}:listen`)).toBe(0);
    }
  });

  it("survives its pool's connections being killed", async () => {
    const db = await admin();
    const prefix = `${uniqueName("l").toLowerCase()}_`;
    const app = uniqueName("ke");
    const errors: unknown[] = [];
    const storage = await storageFor(prefix, app, errors);
    await Promise.all(["a", "b", "c"].map((room) => storage.head(room)));
    expect(await terminate(db, app)).toBeGreaterThan(0);
    // Idle clients the pool held died; the next queries get new ones.
    await poll(async () => {
      try {
        return (await storage.head("a")) === 0;
      } catch {
        return false;
      }
    }, "a query to succeed again");
    expect(errors).toEqual([]); // the listener was not touched
  });

  it("a connection that silently stops answering fails its health check and is replaced", async () => {
    const proxy = await freezableProxy();
    const prefix = `${uniqueName("l").toLowerCase()}_`;
    const errors: unknown[] = [];
    const clock = new ManualClock();
    const a = await postgresStorage({
      url: proxy.url,
      tablePrefix: prefix,
      onError: (error) => errors.push(error),
      listener: { clock, healthCheckInterval: 300, reconnectDelay: 50 },
    });
    cleanups.push(() => a.close());
    // Frozen sockets never answer the pool's goodbye: cut them before a closes.
    cleanups.push(() => proxy.close());
    const b = await storageFor(prefix, uniqueName("kh"), []);
    const heard: number[] = [];
    a.onCommit((room, head) => {
      if (room === "r") heard.push(head);
    });
    expect(await a.head("r")).toBe(0);
    proxy.freeze();
    await b.commit("r", [change("m1", "c1")], decide);
    expect(heard).toEqual([]);
    clock.advance(300); // the health check: SELECT 1, unanswered
    clock.advance(300); // its deadline
    await poll(() => errors.length > 0, "the health check to fail");
    expect(String((errors[0] as Error).message)).toMatch(/health check/);
    clock.advance(100); // the reconnect's backoff (50 ms ± 20%)
    await poll(() => heard.includes(1), "a to hear b's commit through a new connection").catch(
      (e) => {
        throw new Error(`${e.message}: ${errors.map(String).join(" / ")}`);
      },
    );
    expect(String((errors[0] as Error).message)).toMatch(/health check/);
  });

  it("hears commits of a mixed-case table prefix (LISTEN quotes the channel)", async () => {
    const prefix = `Mixed_${uniqueName("l").toLowerCase()}_`;
    const errors: unknown[] = [];
    const a = await storageFor(prefix, uniqueName("kf"), errors);
    const b = await storageFor(prefix, uniqueName("kg"), errors);
    const heard: number[] = [];
    b.onCommit((_room, head) => heard.push(head));
    await a.commit("r", [change("m1", "c1")], decide);
    await poll(() => heard.includes(1), "b to hear a's commit");
    expect(errors).toEqual([]);
  });
});
