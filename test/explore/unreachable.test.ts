import { describe, expect, it } from "vitest";
import { KalphiteSyncError } from "../../src/index.js";
import { comment } from "../fixtures/schema.js";
import { cleanupAfterEach } from "../server/helpers.js";
import { devClient, OFFLINE_URL } from "../support/dev-client.js";

const cleanups = cleanupAfterEach();

describe("a server nobody answers at", { timeout: 30_000 }, () => {
  for (const reconnectAttempts of [0, 2]) {
    it(`connect() rejects with a KalphiteSyncError after ${reconnectAttempts} reconnect attempts, and writes still queue`, async () => {
      const { engine, store } = devClient(cleanups, {
        url: OFFLINE_URL,
        reconnectAttempts,
        reconnectDelay: 5,
        maxReconnectDelay: 10,
      });
      const errors: unknown[] = [];
      engine.on("error", (e) => errors.push(e));
      const error = await engine.connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KalphiteSyncError);
      expect((error as KalphiteSyncError).code).toBe("unreachable");
      expect(engine.getConnectionStatus()).toBe("disconnected");
      expect(engine.status.value).toBe("offline");
      store.comment.upsert("c", comment("c"));
      expect(engine.getOfflineQueueSize()).toBe(1);
      expect(engine.status.value).toBe("offline");
    });
  }
});
