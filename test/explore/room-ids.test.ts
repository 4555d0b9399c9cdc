import { describe, expect, it } from "vitest";
import { pgliteStorage } from "../../src/server/index.js";
import { comment, Entity } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, tempDir, waitUntil } from "../server/helpers.js";
import { devClient } from "../support/dev-client.js";

const cleanups = cleanupAfterEach();
const ROOMS = [
  "it's",
  "a/b",
  "ü🎉",
  "semi;-- drop",
  "  ",
  "x".repeat(300),
  "__proto__",
  "constructor",
];

describe("room ids with unusual characters, stored in PGlite", { timeout: 120_000 }, () => {
  it("keep rooms apart and survive a server restart", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const start = async () => {
      const storage = await pgliteStorage({ dataDir: dir.path });
      const server = await devServer([], { schema: Entity, storage });
      return { server, storage };
    };
    const first = await start();
    for (const roomId of ROOMS) {
      const { store, engine } = devClient(cleanups, { url: first.server.url, roomId });
      await engine.connect();
      store.comment.upsert(`in ${roomId}`, comment(`in ${roomId}`));
      await waitUntil(
        () => engine.getOfflineQueueSize() === 0,
        { engines: [engine] },
        `ack in ${roomId}`,
      );
      await engine.destroy();
    }
    await first.server.close();
    await first.storage.close();
    const second = await start();
    cleanups.push(async () => {
      await second.server.close();
      await second.storage.close();
    });
    for (const roomId of ROOMS) {
      const { store, engine } = devClient(cleanups, {
        url: second.server.url,
        roomId,
        userId: "bob",
      });
      await engine.connect();
      expect(
        store.comment.map((c) => c.id),
        roomId,
      ).toEqual([`in ${roomId}`]);
    }
  });
});
