// NetworkSyncEngine against unhelpful servers: statuses, giving up, and the offline queue.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { KalphiteAuthError, KalphiteStore, KalphiteSyncError } from "../../src/core/index.js";
import { createSyncServer, memoryStorage, signToken } from "../../src/server/index.js";
import type { ConnectionStatus } from "../../src/sync/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { cleanupAfterEach, SECRET, withTimeout } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";

const cleanups = cleanupAfterEach();

/** An HTTP server that accepts WebSocket upgrades and never answers them. */
async function silentServer(): Promise<string> {
  const server: Server = createServer();
  const sockets = new Set<import("node:net").Socket>();
  server.on("upgrade", (_req, socket) => sockets.add(socket as import("node:net").Socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("NetworkSyncEngine", () => {
  it("gives up after reconnectAttempts on a server that never answers, and keeps queueing offline", async () => {
    const url = await silentServer();
    const store = KalphiteStore(Entity);
    const engine = devClient(cleanups, {
      url: url,
      roomId: "r",
      store,
      heartbeatInterval: 20,
      reconnectAttempts: 2,
      reconnectDelay: 5,
    }).engine;
    const statuses: ConnectionStatus[] = [];
    engine.on("status", (status) => statuses.push(status));
    const errors: KalphiteSyncError[] = [];
    engine.on("error", (error) => errors.push(error));
    store.comment.upsert("c1", comment("c1"));
    const failure = await withTimeout(
      engine.connect().catch((error: unknown) => error),
      10_000,
      "connect to fail",
    );
    expect(failure).toBeInstanceOf(KalphiteSyncError);
    expect((failure as KalphiteSyncError).code).toBe("unreachable");
    expect((failure as Error).message).toMatch(/call connect\(\) to try again/);
    expect(statuses[0]).toBe("connecting");
    expect(statuses.at(-1)).toBe("disconnected");
    expect(engine.getConnectionStatus()).toBe("disconnected");
    expect(engine.getOfflineQueueSize()).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it("rejects connect() with KalphiteAuthError on a bad token, without retrying", async () => {
    const server = await createSyncServer({ port: 0, storage: memoryStorage(), secret: SECRET });
    cleanups.push(() => server.close());
    const engine = devClient(cleanups, {
      url: server.url,
      roomId: "r",
      authToken: "forged",
    }).engine;
    await expect(engine.connect()).rejects.toBeInstanceOf(KalphiteAuthError);
    expect(engine.getConnectionStatus()).toBe("disconnected");
  });

  it.each([
    { code: "auth-failed", userId: "ann", roomId: "r", token: () => "forged" },
    {
      code: "forbidden-room",
      userId: "ann",
      roomId: "secret",
      token: () => signToken({ userId: "ann", rooms: ["r"] }, SECRET),
    },
    {
      code: "forbidden-user",
      userId: "mallory",
      roomId: "r",
      token: () => signToken({ userId: "ann" }, SECRET),
    },
  ])(
    "emits a fatal $code error once, not again when it gives up",
    async ({ code, userId, roomId, token }) => {
      const server = await createSyncServer({ port: 0, storage: memoryStorage(), secret: SECRET });
      cleanups.push(() => server.close());
      const engine = devClient(cleanups, {
        url: server.url,
        roomId,
        userId,
        authToken: token(),
      }).engine;
      const errors: KalphiteSyncError[] = [];
      engine.on("error", (error) => errors.push(error));
      const failure = await engine.connect().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(KalphiteAuthError);
      expect((failure as KalphiteAuthError).code).toBe(code);
      expect(errors.map((error) => error.code)).toEqual([code]);
      expect(errors[0]).toBe(failure);
    },
  );

  it("reports connected, sends queued changes, and disconnects cleanly", async () => {
    const server = await createSyncServer({ port: 0, storage: memoryStorage(), secret: SECRET });
    cleanups.push(() => server.close());
    const store = KalphiteStore(Entity);
    const engine = devClient(cleanups, {
      url: server.url,
      roomId: "r",
      authToken: signToken({ userId: "ann" }, SECRET),
      store,
    }).engine;
    store.comment.upsert("c1", comment("c1"));
    expect(engine.getOfflineQueueSize()).toBe(1);
    const acked = new Promise<string>((resolve) => engine.once("ack", resolve));
    await engine.connect();
    expect(engine.getConnectionStatus()).toBe("connected");
    await withTimeout(acked, 10_000, "ack");
    expect(engine.getOfflineQueueSize()).toBe(0);
    await engine.disconnect();
    expect(engine.getConnectionStatus()).toBe("disconnected");
  });

  it("needs a WebSocket when the platform has none", async () => {
    const engine = devClient(cleanups, {
      url: "ws://127.0.0.1:1",
      roomId: "r",
      WebSocket: undefined as never,
    }).engine;
    if ((globalThis as { WebSocket?: unknown }).WebSocket) return; // Node ≥ 22 has one
    await expect(engine.connect()).rejects.toThrow(/pass `WebSocket`/);
  });
});
