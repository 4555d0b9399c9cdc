// Every bad input over a real socket: each gets its error or close, nothing from it is stored,
// and the server keeps serving everyone else.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSyncServer,
  memoryStorage,
  type SyncServer,
  type SyncStorage,
  signToken,
} from "../../src/server/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { envelope, type RawClient, rawClient, SECRET, uniqueName } from "./helpers.js";

let server: SyncServer;
let storage: SyncStorage;
const opened: RawClient[] = [];

beforeAll(async () => {
  storage = memoryStorage();
  server = await createSyncServer({
    port: 0,
    storage,
    schema: Entity,
    secret: SECRET,
    maxMessageBytes: 64 * 1024,
    rateLimit: { messagesPerSecond: 20, burst: 40, closeAfter: 20 },
  });
});
afterAll(async () => {
  for (const client of opened) client.close();
  await server.close();
});

async function connect(): Promise<RawClient> {
  const client = await rawClient(server.url);
  opened.push(client);
  return client;
}

/** A raw client that joined `room` as `userId`. */
async function joined(room: string, userId: string): Promise<RawClient> {
  const client = await connect();
  client.send(
    envelope(
      "hello",
      { protocol: 1, roomId: room, token: signToken({ userId }, SECRET), cursor: 0 },
      userId,
    ),
  );
  await client.next((m) => m.type === "welcome", "welcome");
  return client;
}

const change = (userId: string, entity: unknown, vector: Record<string, number> = {}, id = "c1") =>
  envelope(
    "change",
    { operation: "upsert", entityType: "comment", entityId: id, entity, vector },
    userId,
  );

/** Proves the server still works: a fresh client joins, writes and gets its ack. */
async function serverStillServes(): Promise<void> {
  const room = uniqueName("alive");
  const client = await joined(room, "alive");
  const message = change("alive", comment("ok"), {}, "ok");
  client.send(message);
  const ack = await client.next((m) => m.type === "ack", "ack from a healthy client");
  expect(ack.payload.ackedId).toBe(message.messageId);
}

async function stored(room: string): Promise<number> {
  return storage.head(room);
}

describe("the server refuses bad input and keeps serving", () => {
  it("malformed JSON gets a clear error and the connection stays usable", async () => {
    const client = await connect();
    client.send("{not json");
    const error = await client.next((m) => m.type === "error", "error");
    expect(error.payload.code).toBe("malformed-json");
    expect(error.payload.message).toMatch(/not valid JSON/);
    client.send(envelope("bogus", {}, "x"));
    expect((await client.next((m) => m.type === "error", "error")).payload.code).toBe(
      "invalid-message",
    );
    client.send(envelope("change", { operation: "upsert" }, "x"));
    expect((await client.next((m) => m.type === "error", "error")).payload.message).toMatch(
      /entityType/,
    );
    await serverStillServes();
  });

  it("messages before hello are refused", async () => {
    const client = await connect();
    client.send(change("ann", comment("c1")));
    expect((await client.next((m) => m.type === "error", "error")).payload.code).toBe("not-joined");
  });

  it("an oversized message closes the connection with 1009", async () => {
    const room = uniqueName("big");
    const client = await joined(room, "ann");
    client.send(change("ann", comment("c1", { body: "x".repeat(100 * 1024) })));
    expect((await client.closed).code).toBe(1009);
    expect(await stored(room)).toBe(0);
    await serverStillServes();
  });

  it("a flood is rate limited, then closed with 1008", async () => {
    const room = uniqueName("flood");
    const client = await joined(room, "ann");
    for (let i = 0; i < 200; i++)
      client.socket.send(JSON.stringify(envelope("heartbeat", {}, "ann")));
    expect((await client.next((m) => m.type === "error", "rate-limit error")).payload.code).toBe(
      "rate-limited",
    );
    expect((await client.closed).code).toBe(1008);
    await serverStillServes();
  });

  it("a forged or missing token is refused (4001)", async () => {
    const client = await connect();
    const forged = signToken({ userId: "ann" }, "not-the-secret");
    client.send(envelope("hello", { protocol: 1, roomId: "r", token: forged, cursor: 0 }, "ann"));
    const error = await client.next((m) => m.type === "error", "error");
    expect(error.payload.code).toBe("auth-failed");
    expect((await client.closed).code).toBe(4001);
    const empty = await connect();
    empty.send(envelope("hello", { protocol: 1, roomId: "r", token: "", cursor: 0 }, "ann"));
    expect((await empty.closed).code).toBe(4001);
  });

  it("an expired token is refused", async () => {
    const client = await connect();
    client.send(
      envelope(
        "hello",
        {
          protocol: 1,
          roomId: "r",
          token: signToken({ userId: "ann", expiresAt: Date.now() - 1 }, SECRET),
          cursor: 0,
        },
        "ann",
      ),
    );
    expect((await client.closed).code).toBe(4001);
  });

  it("a client cannot claim another user in hello (4003)", async () => {
    const client = await connect();
    client.send(
      envelope(
        "hello",
        { protocol: 1, roomId: "r", token: signToken({ userId: "ann" }, SECRET), cursor: 0 },
        "mallory",
      ),
    );
    expect((await client.next((m) => m.type === "error", "error")).payload.code).toBe(
      "forbidden-user",
    );
    expect((await client.closed).code).toBe(4003);
  });

  it("a client cannot join a room its token does not list (4003)", async () => {
    const client = await connect();
    client.send(
      envelope(
        "hello",
        {
          protocol: 1,
          roomId: "secret-room",
          token: signToken({ userId: "ann", rooms: ["other"] }, SECRET),
          cursor: 0,
        },
        "ann",
      ),
    );
    expect((await client.next((m) => m.type === "error", "error")).payload.code).toBe(
      "forbidden-room",
    );
    expect((await client.closed).code).toBe(4003);
    expect(await stored("secret-room")).toBe(0);
  });

  it("a client cannot send changes as another user; nothing is stored", async () => {
    const room = uniqueName("impersonate");
    const client = await joined(room, "ann");
    const message = change("bob", comment("c1"));
    client.send(message);
    const error = await client.next((m) => m.type === "error", "error");
    expect(error.payload).toMatchObject({ code: "forbidden-user", rejectedId: message.messageId });
    expect(await stored(room)).toBe(0);
  });

  it("a client cannot forge another user's vector clock entries; nothing is stored", async () => {
    const room = uniqueName("forge");
    const client = await joined(room, "ann");
    const message = change("ann", comment("c1"), { bob: 7 });
    client.send(message);
    const error = await client.next((m) => m.type === "error", "error");
    expect(error.payload).toMatchObject({ code: "forged-vector", rejectedId: message.messageId });
    expect(error.payload.message).toMatch(/bob/);
    expect(await stored(room)).toBe(0);
    // Its own entry is its own business: accepted, as a conflict (the server has no version of
    // what it edited: one deleted and forgotten after tombstoneTtl looks like this).
    const own = change("ann", comment("c1"), { ann: 3 });
    client.send(own);
    const answer = await client.next((m) => m.type === "conflict", "conflict");
    expect(answer.payload.ackedId).toBe(own.messageId);
    expect(answer.payload.entry.conflict.current).toBeNull();
  });

  it("an entity the schema rejects is refused; nothing is stored", async () => {
    const room = uniqueName("schema");
    const client = await joined(room, "ann");
    const message = change("ann", { ...comment("c1"), data: { body: 42 } });
    client.send(message);
    const error = await client.next((m) => m.type === "error", "error");
    expect(error.payload).toMatchObject({ code: "invalid-entity", rejectedId: message.messageId });
    const mismatched = change("ann", comment("other-id"));
    client.send(mismatched);
    expect((await client.next((m) => m.type === "error", "error")).payload.code).toBe(
      "invalid-entity",
    );
    expect(await stored(room)).toBe(0);
    await serverStillServes();
  });

  it("a resent change is applied once", async () => {
    const room = uniqueName("resend");
    const client = await joined(room, "ann");
    const message = change("ann", comment("c1"));
    client.send(message);
    client.send(message);
    const first = await client.next((m) => m.type === "ack", "first ack");
    const second = await client.next((m) => m.type === "ack", "second ack");
    expect(second.payload.entry.seq).toBe(first.payload.entry.seq);
    expect(await stored(room)).toBe(1);
  });
});

describe("starting without a secret", () => {
  it("createSyncServer refuses, saying how to fix it", async () => {
    const saved = process.env.KALPHITE_SECRET;
    delete process.env.KALPHITE_SECRET;
    try {
      await expect(createSyncServer({ port: 0, storage: memoryStorage() })).rejects.toThrow(
        /KALPHITE_SECRET/,
      );
    } finally {
      if (saved !== undefined) process.env.KALPHITE_SECRET = saved;
    }
  });

  it("allowInsecureDevAuth starts with a warning", async () => {
    const warnings: string[] = [];
    const insecure = await createSyncServer({
      port: 0,
      storage: memoryStorage(),
      secret: "",
      allowInsecureDevAuth: true,
      warn: (m) => warnings.push(m),
    });
    await insecure.close();
    expect(warnings.join()).toMatch(/INSECURE/);
  });

  it("the CLI exits with the fix in its message", () => {
    const cli = fileURLToPath(new URL("../../src/server/cli.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", cli, "--port", "0"], {
      env: { ...process.env, KALPHITE_SECRET: "" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/KALPHITE_SECRET/);
    expect(result.stderr).toMatch(/--insecure/);
  });
});
