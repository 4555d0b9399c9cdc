import { describe, expect, it } from "vitest";
import { comment, Entity, review } from "../fixtures/schema.js";
import { canonical, cleanupAfterEach, devServer, waitUntil } from "../server/helpers.js";
import { type DevClient, devClient } from "../support/dev-client.js";

const cleanups = cleanupAfterEach();

type Client = DevClient;
const sorted = (c: Client) =>
  c.store.entities().sort((a, b) => `${a.type}/${a.id}`.localeCompare(`${b.type}/${b.id}`));
const converged = (clients: Client[]) => () => {
  const first = canonical(sorted(clients[0]!));
  return clients.every(
    (c) =>
      c.engine.getOfflineQueueSize() === 0 &&
      c.engine.getConnectionStatus() === "connected" &&
      canonical(sorted(c)) === first,
  );
};
const sources = (clients: Client[]) => ({
  engines: clients.map((c) => c.engine),
  stores: clients.map((c) => c.store),
});

async function pair(roomId = "room") {
  const server = await devServer(cleanups, { schema: Entity });
  const options = { url: server.url, roomId, reconnectDelay: 20, maxReconnectDelay: 100 };
  const ann = devClient(cleanups, { ...options, userId: "ann" });
  const bob = devClient(cleanups, { ...options, userId: "bob" });
  await Promise.all([ann.engine.connect(), bob.engine.connect()]);
  return { server, ann, bob, options };
}

describe("two clients on a real server over loopback", { timeout: 60_000 }, () => {
  it("both types and odd ids reach the other client", async () => {
    const { ann, bob } = await pair();
    const ids = ["it's", "a/b", "ü🎉", "__proto__", "semi;--"];
    for (const id of ids) {
      ann.store.comment.upsert(id, comment(id));
      ann.store.review.upsert(id, review(id));
    }
    await waitUntil(
      () => bob.store.review.length === ids.length && bob.store.comment.length === ids.length,
      sources([ann, bob]),
      "bob has all",
    );
    await waitUntil(converged([ann, bob]), sources([ann, bob]), "converged");
    expect(bob.store.comment.findById("__proto__")?.data.body).toBe("body of __proto__");
  });

  it("concurrent edits of one entity converge on the later write", async () => {
    const { ann, bob } = await pair();
    ann.store.comment.upsert("c", comment("c", { body: "base" }, 1));
    await waitUntil(() => bob.store.comment.has("c"), sources([ann, bob]), "bob has c");
    await waitUntil(converged([ann, bob]), sources([ann, bob]), "converged 1");
    const now = Date.now();
    ann.store.comment.upsert("c", comment("c", { body: "ann" }, now));
    bob.store.comment.upsert("c", comment("c", { body: "bob" }, now + 5));
    await waitUntil(converged([ann, bob]), sources([ann, bob]), "converged 2");
    expect(ann.store.comment.findById("c")?.data.body).toBe("bob");
  });

  it("a delete on one side and an edit on the other converge", async () => {
    const { ann, bob } = await pair();
    ann.store.comment.upsert("c", comment("c", {}, 1));
    await waitUntil(() => bob.store.comment.has("c"), sources([ann, bob]), "bob has c");
    await waitUntil(converged([ann, bob]), sources([ann, bob]), "converged 1");
    ann.store.comment.delete("c");
    bob.store.comment.upsert("c", comment("c", { body: "edited" }, Date.now()));
    await waitUntil(converged([ann, bob]), sources([ann, bob]), "converged 2");
  });

  it("offline edits, deletes and re-creates reach the other client once online", async () => {
    const { ann, bob } = await pair();
    ann.store.comment.upsert("a", comment("a"));
    ann.store.comment.upsert("b", comment("b"));
    await waitUntil(converged([ann, bob]), sources([ann, bob]), "converged 1");
    await ann.engine.disconnect();
    expect(ann.engine.status.value).toBe("offline");
    ann.store.comment.delete("a");
    ann.store.comment.upsert("a", comment("a", { body: "re-created" }, 5));
    ann.store.comment.delete("b");
    ann.store.review.upsert("r", review("r"));
    ann.store.review.delete("r");
    ann.store.review.upsert("r", review("r", "again"));
    expect(ann.engine.getOfflineQueueSize()).toBeGreaterThan(0);
    bob.store.comment.upsert("z", comment("z"));
    await ann.engine.connect();
    await waitUntil(converged([ann, bob]), sources([ann, bob]), "converged 2");
    expect(bob.store.comment.findById("a")?.data.body).toBe("re-created");
    expect(bob.store.comment.has("b")).toBe(false);
    expect(bob.store.review.findById("r")?.data.title).toBe("again");
    expect(ann.store.comment.has("z")).toBe(true);
    expect(ann.engine.status.value).toBe("synced");
  });

  it("connect() twice at once joins once and both resolve", async () => {
    const server = await devServer(cleanups, { schema: Entity });
    const { engine, store } = devClient(cleanups, { url: server.url });
    const statuses: string[] = [];
    engine.on("status", (s) => statuses.push(s));
    await Promise.all([engine.connect(), engine.connect()]);
    expect(engine.getConnectionStatus()).toBe("connected");
    store.comment.upsert("c", comment("c"));
    await waitUntil(() => engine.getOfflineQueueSize() === 0, { engines: [engine] }, "acked");
    expect(statuses.filter((s) => s === "connected")).toHaveLength(1);
  });
});

describe("operational-transform between two clients", { timeout: 60_000 }, () => {
  it("keeps both fields of concurrent edits of different fields, also after an offline stretch", async () => {
    const server = await devServer(cleanups, { schema: Entity });
    const options = {
      url: server.url,
      conflictResolution: { strategy: "operational-transform" as const },
    };
    const ann = devClient(cleanups, { ...options, userId: "ann" });
    const bob = devClient(cleanups, { ...options, userId: "bob" });
    await Promise.all([ann.engine.connect(), bob.engine.connect()]);
    ann.store.comment.upsert("c", comment("c", { body: "base", lineNumber: 1 }, 1));
    await waitUntil(converged([ann, bob]), sources([ann, bob]), "converged 1");
    await bob.engine.disconnect();
    const seenByAnn = ann.store.comment.findById("c")!;
    const seenByBob = bob.store.comment.findById("c")!;
    ann.store.comment.upsert("c", {
      ...seenByAnn,
      updatedAt: 2,
      data: { ...seenByAnn.data, body: "ann's" },
    });
    bob.store.comment.upsert("c", {
      ...seenByBob,
      updatedAt: 3,
      data: { ...seenByBob.data, status: "resolved" },
    });
    bob.store.comment.upsert("c", {
      ...bob.store.comment.findById("c")!,
      updatedAt: 4,
      data: { ...bob.store.comment.findById("c")!.data, lineNumber: 9 },
    });
    await waitUntil(() => ann.engine.getOfflineQueueSize() === 0, sources([ann]), "ann acked");
    await bob.engine.connect();
    await waitUntil(converged([ann, bob]), sources([ann, bob]), "converged 2");
    expect(ann.store.comment.findById("c")?.data).toEqual({
      body: "ann's",
      lineNumber: 9,
      status: "resolved",
    });
  });
});

describe("user ids named like Object.prototype members", { timeout: 60_000 }, () => {
  it("sync each writer's changes, whose vectors count their own entries", async () => {
    const server = await devServer(cleanups, { schema: Entity });
    const names = ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"];
    const options = { url: server.url, roomId: "room", reconnectDelay: 20, maxReconnectDelay: 100 };
    const clients = names.map((userId) => devClient(cleanups, { ...options, userId }));
    const errors: unknown[] = [];
    for (const c of clients) c.engine.on("error", (error) => errors.push(error));
    await Promise.all(clients.map((c) => c.engine.connect()));
    clients[0]!.store.comment.upsert("c", comment("c", { body: "base" }, 1));
    await waitUntil(
      () => clients.every((c) => c.store.comment.has("c")),
      sources(clients),
      "all have c",
    );
    await waitUntil(converged(clients), sources(clients), "converged 1");
    clients.forEach((c, i) => {
      c.store.comment.upsert("c", comment("c", { body: `by ${names[i]}` }, 10 + i));
    });
    await waitUntil(converged(clients), sources(clients), "converged 2");
    expect(errors).toEqual([]);
    expect(clients[0]!.store.comment.findById("c")?.data.body).toBe("by valueOf");
  });
});
