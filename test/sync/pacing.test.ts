// A client with a large outbox sends it at a pace the server accepts, and treats the server's
// `rate-limited` refusals as flow control (slow down, resend), not as errors for the user.
import { describe, expect, it } from "vitest";
import type { KalphiteSyncError } from "../../src/core/index.js";
import type { RateLimit } from "../../src/server/index.js";
import type { ConnectionStatus } from "../../src/sync/index.js";
import { comment } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, waitUntil } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";

const cleanups = cleanupAfterEach();

/** Ann writes `count` comments offline, then connects; Bob, online, must receive them all. */
async function offlineBurst(count: number, rateLimit?: RateLimit) {
  const server = await devServer(cleanups, { ...(rateLimit ? { rateLimit } : {}) });
  const open = (userId: string) => {
    const { store, engine } = devClient(cleanups, { url: server.url, roomId: "r", userId });
    const errors: KalphiteSyncError[] = [];
    const statuses: ConnectionStatus[] = [];
    const throttled: number[] = [];
    engine.on("error", (error) => errors.push(error));
    engine.on("status", (status) => statuses.push(status));
    engine.on("throttled", (pauseMs) => throttled.push(pauseMs));
    return { store, engine, errors, statuses, throttled };
  };
  const ann = open("ann");
  const bob = open("bob");
  await bob.engine.connect();
  ann.store.batch(() => {
    for (let i = 0; i < count; i++) ann.store.comment.upsert(`c${i}`, comment(`c${i}`));
  });
  expect(ann.engine.getOfflineQueueSize()).toBe(count);
  await ann.engine.connect();
  await waitUntil(
    () => bob.store.comment.length === count && ann.engine.getOfflineQueueSize() === 0,
    { engines: [ann.engine, bob.engine] },
    `${count} comments at Bob`,
    60_000,
    () => `bob has ${bob.store.comment.length}, ann's queue ${ann.engine.getOfflineQueueSize()}`,
  );
  return { ann, bob };
}

describe("sending a large outbox", { timeout: 90_000 }, () => {
  it("stays within the default server's rate limit: 1,000 offline writes, no error, no reconnect", async () => {
    const { ann } = await offlineBurst(1_000);
    expect(ann.errors.map((error) => error.code)).toEqual([]);
    expect(ann.throttled).toEqual([]);
    expect(ann.statuses).toEqual(["connecting", "connected"]);
  });

  it("against a stricter server, slows down and resends on rate-limited, announcing it once per slow-down on `throttled`, never on `error`", async () => {
    const { ann } = await offlineBurst(150, {
      messagesPerSecond: 60,
      burst: 30,
      closeAfter: 1_000,
    });
    expect(ann.errors.map((error) => error.code)).toEqual([]);
    expect(ann.throttled.length).toBeGreaterThan(0);
    expect(ann.throttled.length).toBeLessThan(5);
    expect(ann.statuses).toEqual(["connecting", "connected"]);
  });
});
