// Limits known before sending (a write that could never be sent is refused at upsert, even
// offline), and nothing wedges the outbox (a change the server refuses for good leaves it).
import { effect } from "@preact/signals-core";
import { type } from "arktype";
import { describe, expect, it } from "vitest";
import { KalphiteLimitError, KalphiteStore } from "../../src/core/index.js";
import { DEFAULT_LIMITS } from "../../src/protocol/index.js";
import { memoryPersistence, type RefusedChange, type SyncStatus } from "../../src/sync/index.js";
import { comment, Entity, logUpsert } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, tempDir, waitUntil } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";
import { persistedClient } from "../support/persisted-client.js";
import { scriptedServer, welcome } from "./support/scripted-server.js";

const cleanups = cleanupAfterEach();

const Doc = type({ id: "string", type: "'doc'", updatedAt: "number", data: "unknown" });
const doc = (id: string, data: unknown) => ({ id, type: "doc" as const, updatedAt: 1, data });
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { v: value };
  return value;
}

function engineFor(store: unknown, url = "ws://127.0.0.1:9", extra: object = {}) {
  const engine = devClient(cleanups, {
    url: url,
    store,
    ...extra,
  }).engine;
  return engine;
}

describe("limits known before sending", () => {
  it("offline, before any connection: refuses what the default limits could never send, changing nothing", async () => {
    const store = KalphiteStore(Doc);
    const engine = engineFor(store);
    await engine.whenLoaded();
    expect(engine.getLimits()).toEqual(DEFAULT_LIMITS);
    store.doc.upsert("ok", doc("ok", { text: "small" }));
    const big = "x".repeat(DEFAULT_LIMITS.maxMessageBytes);
    const tooLarge = (() => {
      try {
        store.doc.upsert("big", doc("big", { text: big }));
      } catch (error) {
        return error;
      }
    })();
    expect(tooLarge).toBeInstanceOf(KalphiteLimitError);
    expect(tooLarge).toMatchObject({
      limit: "maxMessageBytes",
      max: DEFAULT_LIMITS.maxMessageBytes,
    });
    expect((tooLarge as Error).message).toMatch(/could never be sent/);
    // Multi-byte characters count as the bytes they take in UTF-8.
    expect(() => store.doc.upsert("wide", doc("wide", { text: "é".repeat(600_000) }))).toThrow(
      KalphiteLimitError,
    );
    expect(() => store.doc.upsert("deep", doc("deep", nested(DEFAULT_LIMITS.maxDepth)))).toThrow(
      /nested 65 levels deep, deeper than the sync server's limit of 64/,
    );
    // At the limit is fine: the entity is one level, its data the 63 others.
    store.doc.upsert("deepest", doc("deepest", nested(DEFAULT_LIMITS.maxDepth - 1)));
    expect(() => store.doc.upsertMany([doc("a", 1), doc("b", nested(80))])).toThrow(
      KalphiteLimitError,
    );
    expect(store.doc.map((d) => d.id).sort()).toEqual(["deepest", "ok"]);
    expect(engine.getOutbox().map((e) => e.entityId)).toEqual(["ok", "deepest"]);
    // Remote and hydrated writes are not the engine's to refuse.
    store.doc.upsert("remote", doc("remote", nested(70)), { origin: "remote" });
  });

  it("learns the limits from welcome, keeps them in the database, and checks with them after a reload offline", async () => {
    const server = await scriptedServer((message, connection) => {
      if (message.type === "hello")
        connection.send(
          "welcome",
          welcome(message, { limits: { maxMessageBytes: 4_000, maxDepth: 8 } }),
        );
    });
    cleanups.push(() => server.close());
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const open = async () => {
      const client = await persistedClient(cleanups, {
        dir: dir.path,
        url: server.url,
        schema: Doc,
      });
      await client.engine.whenLoaded();
      return client;
    };
    const first = await open();
    await first.engine.connect();
    expect(first.engine.getLimits()).toEqual({ maxMessageBytes: 4_000, maxDepth: 8 });
    expect(() => first.store.doc.upsert("d", doc("d", { text: "x".repeat(5_000) }))).toThrow(
      /4,000 bytes/,
    );
    await first.close();

    const again = await open();
    expect(again.engine.getConnectionStatus()).toBe("disconnected");
    expect(() => again.store.doc.upsert("d", doc("d", nested(8)))).toThrow(KalphiteLimitError);
    expect(again.store.doc.length).toBe(0);
  }, 120_000); // a database on disk opened twice: past the default 30 s on a loaded machine
});

describe("a change refused for good", { timeout: 60_000 }, () => {
  it("leaves the outbox with an event, the entity shows the server's version, status says refused, no reconnect", async () => {
    const server = await scriptedServer((message, connection) => {
      if (message.type === "hello") {
        connection.send(
          "welcome",
          welcome(message, {
            head: 1,
            entries: [logUpsert(1, comment("c1", { body: "the server's" }))],
          }),
        );
      }
      if (message.type === "change")
        connection.send("error", {
          code: "invalid-entity",
          message: "The server's schema refuses it.",
          rejectedId: message.messageId,
          permanent: true,
        });
    });
    cleanups.push(() => server.close());
    const store = KalphiteStore(Entity);
    const engine = engineFor(store, server.url, { persistence: memoryPersistence() });
    const statuses: SyncStatus[] = [];
    cleanups.push(effect(() => void statuses.push(engine.status.value)));
    await engine.connect();
    expect(engine.status.value).toBe("synced");
    const refusals: RefusedChange[] = [];
    engine.on("refused", (refusal) => refusals.push(refusal));
    store.comment.upsert("c1", comment("c1", { body: "mine" }));
    expect(engine.status.value).toBe("pending");
    await waitUntil(() => refusals.length === 1, { engines: [engine] }, "the refusal");
    expect(refusals[0]).toMatchObject({
      entityType: "comment",
      entityId: "c1",
      error: { code: "invalid-entity" },
    });
    expect(engine.getOutbox()).toEqual([]);
    expect(engine.queueSize.value).toBe(0);
    expect(store.comment.findById("c1")?.data.body).toBe("the server's");
    expect(engine.status.value).toBe("refused");
    expect(engine.refused.value).toHaveLength(1);
    expect(engine.lastError.value?.code).toBe("invalid-entity");
    expect(engine.getConnectionStatus()).toBe("connected");
    expect(server.received.filter((m) => m.type === "hello")).toHaveLength(1);
    engine.dismissRefused();
    expect(engine.status.value).toBe("synced");
    expect(statuses).toEqual(["offline", "connecting", "synced", "pending", "refused", "synced"]);
  });

  it("a retryable refusal (storage failed) stays in the outbox and is resent", async () => {
    let changes = 0;
    let resent!: () => void;
    const second = new Promise<void>((resolve) => {
      resent = resolve;
    });
    const server = await scriptedServer((message, connection) => {
      if (message.type === "hello") connection.send("welcome", welcome(message));
      if (message.type === "heartbeat") connection.send("heartbeat", { head: 0 });
      if (message.type !== "change") return;
      if (++changes === 1)
        connection.send("error", {
          code: "storage-failed",
          message: "try again",
          rejectedId: message.messageId,
        });
      else resent();
    });
    cleanups.push(() => server.close());
    const store = KalphiteStore(Entity);
    const engine = engineFor(store, server.url, { heartbeatInterval: 20 });
    await engine.connect();
    store.comment.upsert("c1", comment("c1"));
    await second;
    expect(engine.getOutbox()).toHaveLength(1);
    expect(engine.refused.value).toEqual([]);
    expect(engine.status.value).toBe("pending");
  });

  it("the real server: a change its schema refuses leaves the outbox; one over its announced size is refused at upsert", async () => {
    const Strict = type({
      id: "string",
      type: "'comment'",
      updatedAt: "number",
      data: { body: "string <= 10", lineNumber: "number", status: "'open'|'resolved'" },
    });
    const server = await devServer(cleanups, { schema: Strict, maxMessageBytes: 3_000 });
    const store = KalphiteStore(Entity);
    const engine = engineFor(store, server.url);
    await engine.connect();
    expect(engine.getLimits().maxMessageBytes).toBe(3_000);
    store.comment.upsert("short", comment("short", { body: "ok" }));
    store.comment.upsert("long", comment("long", { body: "far too long for the server" }));
    await waitUntil(
      () => engine.getOfflineQueueSize() === 0,
      { engines: [engine] },
      "ack and refusal",
    );
    expect(store.comment.findById("long")).toBeUndefined();
    expect(engine.refused.value.map((r) => r.entityId)).toEqual(["long"]);

    // The server announced its limit in welcome: the write is refused before anything changes.
    expect(() =>
      store.comment.upsert("huge", comment("huge", { body: "y".repeat(5_000) })),
    ).toThrow(KalphiteLimitError);
    expect(store.comment.findById("huge")).toBeUndefined();
    expect(engine.getOfflineQueueSize()).toBe(0);
    store.comment.upsert("after", comment("after", { body: "fine" }));
    await waitUntil(
      () => engine.getOfflineQueueSize() === 0,
      { engines: [engine] },
      "nothing wedged",
    );
  });

  it("a server that closes with 1009 below the limits it announced: the change is refused, nothing wedges", async () => {
    const server = await scriptedServer(
      (message, connection) => {
        if (message.type === "hello") connection.send("welcome", welcome(message, { head: 0 }));
        if (message.type === "change")
          connection.send("ack", {
            ackedId: message.messageId,
            entry: {
              seq: 1,
              messageId: message.messageId,
              userId: "ann",
              timestamp: 1,
              operation: message.payload.operation,
              entityType: message.payload.entityType,
              entityId: message.payload.entityId,
              entity: message.payload.entity,
              vector: { ann: 1 },
            },
          });
      },
      { maxPayload: 3_000 },
    );
    cleanups.push(() => server.close());
    const store = KalphiteStore(Entity);
    const engine = engineFor(store, server.url);
    await engine.connect();
    store.comment.upsert("huge", comment("huge", { body: "y".repeat(5_000) }));
    await waitUntil(
      () => engine.refused.value.length === 1,
      { engines: [engine] },
      "the 1009 refusal",
    );
    expect(engine.refused.value[0]).toMatchObject({
      entityId: "huge",
      error: { code: "message-too-large" },
    });
    expect(store.comment.findById("huge")).toBeUndefined();
    await waitUntil(
      () => engine.getConnectionStatus() === "connected",
      { engines: [engine] },
      "reconnected",
    );
    store.comment.upsert("after", comment("after", { body: "fine" }));
    await waitUntil(
      () => engine.getOfflineQueueSize() === 0,
      { engines: [engine] },
      "nothing wedged",
    );
  });
});
