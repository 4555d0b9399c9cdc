import { describe, expect, it } from "vitest";
import { KalphiteUsageError } from "../../src/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";

const cleanups = cleanupAfterEach();

describe("a destroyed engine", () => {
  it("refuses to connect again instead of joining a room it no longer syncs", async () => {
    const server = await devServer(cleanups, { schema: Entity });
    const { engine, store } = devClient(cleanups, { url: server.url });
    await engine.connect();
    await engine.destroy();
    await expect(engine.connect()).rejects.toBeInstanceOf(KalphiteUsageError);
    expect(engine.getConnectionStatus()).toBe("disconnected");
    store.comment.upsert("c", comment("c"));
    expect(engine.getOfflineQueueSize()).toBe(0);
  });
});
