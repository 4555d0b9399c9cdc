// What the server announces and refuses over a real socket: its limits in welcome, permanent
// refusals of what can never be stored, a backlog closed with 1013, clocks it does not trust.
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/protocol/messages.js";
import { memoryStorage } from "../../src/server/index.js";
import { comment } from "../fixtures/schema.js";
import {
  cleanupAfterEach,
  devServer,
  envelope,
  rawClient,
  uniqueName,
  withTimeout,
} from "./helpers.js";

const cleanups = cleanupAfterEach();

async function joined(url: string, room: string, userId: string) {
  const client = await rawClient(url);
  cleanups.push(() => client.close());
  client.send(envelope("hello", { protocol: 1, roomId: room, token: "", cursor: 0 }, userId));
  const welcome = await client.next((m) => m.type === "welcome", "welcome");
  return { client, welcome };
}

const upsert = (
  userId: string,
  entity: unknown,
  vector: Record<string, number> = {},
  extra: { timestamp?: number; messageId?: string } = {},
) => {
  const e = entity as { id: string };
  const message = envelope(
    "change",
    { operation: "upsert", entityType: "comment", entityId: e.id, entity, vector },
    userId,
    extra.messageId,
  );
  if (extra.timestamp !== undefined) message.timestamp = extra.timestamp;
  return message;
};

function nested(depth: number): unknown {
  let value: unknown = {};
  for (let i = 1; i < depth; i++) value = { deeper: value };
  return value;
}

describe("limits", () => {
  it("announces maxMessageBytes and maxDepth in welcome", async () => {
    const server = await devServer(cleanups, { maxMessageBytes: 100_000, maxDepth: 12 });
    const { welcome } = await joined(server.url, uniqueName("room"), "ann");
    expect(welcome.payload.limits).toEqual({ maxMessageBytes: 100_000, maxDepth: 12 });
    const defaults = await devServer(cleanups);
    const other = await joined(defaults.url, uniqueName("room"), "ann");
    expect(other.welcome.payload.limits).toEqual(DEFAULT_LIMITS);
  });

  it("refuses an entity nested deeper than maxDepth for good: entity-too-deep, rejectedId, permanent", async () => {
    const storage = memoryStorage();
    const server = await devServer(cleanups, { storage });
    const room = uniqueName("room");
    const { client } = await joined(server.url, room, "ann");
    // Written as text: JSON.stringify itself would overflow the stack at this depth.
    const message = upsert("ann", { ...comment("c1"), data: "DEEP" });
    client.send(
      JSON.stringify(message).replace(
        '"data":"DEEP"',
        `"data":${'{"deeper":'.repeat(9_999)}{}${"}".repeat(9_999)}`,
      ),
    );
    const error = await client.next((m) => m.type === "error", "the refusal");
    expect(error.payload).toMatchObject({
      code: "entity-too-deep",
      rejectedId: message.messageId,
      permanent: true,
    });
    expect(error.payload.message).toContain("64");
    // Exactly at the limit is fine: the entity is 1, data 2, and so on.
    const ok = upsert("ann", { ...comment("c2"), data: nested(63) });
    client.send(ok);
    const ack = await client.next((m) => m.type === "ack", "the ack");
    expect(ack.payload.ackedId).toBe(ok.messageId);
    expect(await storage.head(room)).toBe(1);
  });

  it("refuses a string PostgreSQL cannot store (U+0000, a lone surrogate) in an entity or an id as permanent", async () => {
    const storage = memoryStorage();
    const server = await devServer(cleanups, { storage }); // no schema: nothing else looks
    const room = uniqueName("room");
    const { client } = await joined(server.url, room, "ann");
    const refusals = [
      upsert("ann", { ...comment("c1"), data: { body: "a\u0000b" } }),
      upsert("ann", { ...comment("c2"), data: { ["k\ud800"]: 1 } }),
      upsert("ann", comment("c3"), {}, { messageId: "m\u0000" }),
    ];
    for (const bad of refusals) {
      client.send(bad);
      const error = await client.next((m) => m.type === "error", "the refusal");
      expect(error.payload).toMatchObject({
        code: "invalid-entity",
        rejectedId: bad.messageId,
        permanent: true,
      });
      expect(error.payload.message).toContain("PostgreSQL cannot store");
    }
    const ok = upsert("ann", comment("c4"));
    client.send(ok);
    const ack = await client.next((m) => m.type === "ack", "the ack");
    expect(ack.payload.ackedId).toBe(ok.messageId);
    expect(await storage.head(room)).toBe(1);
  });

  it("refuses a schema-invalid entity and a forged vector as permanent", async () => {
    const server = await devServer(cleanups);
    const { client } = await joined(server.url, uniqueName("room"), "ann");
    const bad = upsert("ann", { id: "c1", type: "review", updatedAt: 1 });
    client.send(bad);
    const invalid = await client.next((m) => m.type === "error", "invalid-entity");
    expect(invalid.payload).toMatchObject({
      code: "invalid-entity",
      rejectedId: bad.messageId,
      permanent: true,
    });
    const forged = upsert("ann", comment("c1"), { bob: 5 });
    client.send(forged);
    const refused = await client.next((m) => m.type === "error", "forged-vector");
    expect(refused.payload).toMatchObject({
      code: "forged-vector",
      rejectedId: forged.messageId,
      permanent: true,
    });
  });

  it("closes a connection whose unsent backlog passes maxBacklogBytes with 1013", async () => {
    const server = await devServer(cleanups, {
      maxBacklogBytes: 256 * 1024,
      maxFrameBytes: 64 * 1024,
      rateLimit: { messagesPerSecond: 10_000, burst: 10_000 },
    });
    const room = uniqueName("room");
    const sleepy = await joined(server.url, room, "sleepy");
    sleepy.client.socket.pause();
    const { client: writer } = await joined(server.url, room, "ann");
    const body = "y".repeat(16 * 1024);
    // Enough for the sockets' own buffers and then the limit (loopback buffers hold a few MiB).
    for (let i = 0; i < 1_200; i++)
      writer.send(upsert("ann", comment(`c${i}`, { body }), {}, { messageId: `w${i}` }));
    for (let i = 0; i < 1_200; i++)
      await writer.next((m) => m.type === "ack" && m.payload.ackedId === `w${i}`, `ack ${i}`);
    sleepy.client.socket.resume();
    const closed = await withTimeout(sleepy.client.closed, 20_000, "the close");
    expect(closed.code).toBe(1013);
    // The writer, who reads, is still connected and served.
    writer.send(upsert("ann", comment("after"), {}, { messageId: "after" }));
    await writer.next((m) => m.type === "ack" && m.payload.ackedId === "after", "ack after");
  });
});

describe("clocks bounded by the server", () => {
  it("a write claiming a time 10 years ahead loses to an honest concurrent edit made after it", async () => {
    const server = await devServer(cleanups);
    const room = uniqueName("room");
    const liar = await joined(server.url, room, "zed"); // "zed" would also win a tie
    const honest = await joined(server.url, room, "ann");
    const watcher = await joined(server.url, room, "bob");
    const decade = 10 * 365 * 24 * 3_600_000;
    const lie = upsert(
      "zed",
      comment("c1", { body: "lie" }, Date.now() + decade),
      {},
      {
        timestamp: Date.now() + decade,
      },
    );
    liar.client.send(lie);
    const stored = await liar.client.next((m) => m.type === "ack", "the lie's ack");
    expect(stored.payload.entry.timestamp).toBeLessThanOrEqual(Date.now());
    // Ann had not seen it (empty vector: concurrent) and edits after it, with an honest clock.
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later millisecond than the lie
    const edit = upsert("ann", comment("c1", { body: "honest" }, Date.now()));
    honest.client.send(edit);
    const decided = await honest.client.next((m) => m.type === "conflict", "the conflict");
    expect(decided.payload.entry.entity.data.body).toBe("honest");
    // Everyone holds the same winner, the watcher included.
    const seen = await watcher.client.next(
      (m) => m.type === "change" && m.payload.entity?.data?.body === "honest",
      "the honest version",
    );
    expect(seen.payload.seq).toBe(decided.payload.entry.seq);
  });

  it("an operational-transform merge orders by the bounded time: a lie ahead is not the merge's time", async () => {
    const server = await devServer(cleanups);
    const room = uniqueName("room");
    const liar = await joined(server.url, room, "zed");
    const honest = await joined(server.url, room, "ann");
    const decade = 10 * 365 * 24 * 3_600_000;
    const lie = upsert("zed", comment("c1", { body: "lie" }, Date.now() + decade));
    Object.assign(lie.payload as object, { strategy: "operational-transform" });
    liar.client.send(lie);
    await liar.client.next((m) => m.type === "ack", "the lie's ack");
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later millisecond than the lie
    const edit = upsert("ann", comment("c1", { status: "resolved" }, Date.now()));
    Object.assign(edit.payload as object, {
      strategy: "operational-transform",
      changedFields: ["status"],
    });
    honest.client.send(edit);
    const decided = await honest.client.next((m) => m.type === "conflict", "the conflict");
    expect(decided.payload.entry.entity.data).toMatchObject({ body: "lie", status: "resolved" });
    // The merge is as late as the honest edit, not 10 years ahead.
    const sent = (edit.payload as { entity: { updatedAt: number } }).entity.updatedAt;
    expect(decided.payload.entry.entity.updatedAt).toBe(sent);
  });

  it("maxClockSkew lets a write be ordered that far ahead, no further", async () => {
    const server = await devServer(cleanups, { maxClockSkew: 60_000 });
    const { client } = await joined(server.url, uniqueName("room"), "ann");
    const ahead = Date.now() + 3_600_000;
    client.send(upsert("ann", comment("c1", {}, ahead)));
    const ack = await client.next((m) => m.type === "ack", "ack");
    expect(ack.payload.entry.timestamp).toBeLessThan(ahead);
    expect(ack.payload.entry.timestamp).toBeGreaterThan(Date.now() + 50_000);
  });
});
