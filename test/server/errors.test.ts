// The server throws and reports KalphiteError subclasses only.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { KalphitePersistenceError } from "../../src/core/index.js";
import { decideChange } from "../../src/server/conflict.js";
import { memoryStorage, type SyncStorage } from "../../src/server/index.js";
import { comment } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, envelope, rawClient, uniqueName } from "./helpers.js";

const SERVER = fileURLToPath(new URL("../../src/server/", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [join(dir, entry.name)]
        : [],
  );
}

describe("server errors", () => {
  const cleanups = cleanupAfterEach();

  it("no server source throws a plain Error", () => {
    const plain = sources(SERVER).filter((file) =>
      /new (Type|Range)?Error\(/.test(readFileSync(file, "utf8")),
    );
    expect(plain).toEqual([]);
  });

  it("a storage failure reaches onError as a KalphitePersistenceError with the cause", async () => {
    const inner = memoryStorage();
    const failure = new Error("disk on fire");
    const storage: SyncStorage = {
      ...inner,
      commit: async () => {
        throw failure;
      },
    };
    const reported: unknown[] = [];
    const server = await devServer(cleanups, { storage, onError: (e) => reported.push(e) });
    const client = await rawClient(server.url);
    cleanups.push(() => client.close());
    const room = uniqueName("room");
    client.send(envelope("hello", { protocol: 1, roomId: room, token: "", cursor: 0 }, "ann"));
    await client.next((m) => m.type === "welcome", "welcome");
    const message = envelope(
      "change",
      {
        operation: "upsert",
        entityType: "comment",
        entityId: "c1",
        entity: comment("c1"),
        vector: {},
      },
      "ann",
    );
    client.send(message);
    const error = await client.next((m) => m.type === "error", "storage-failed");
    // Not permanent: resending can work once the storage is back.
    expect(error.payload).toMatchObject({ code: "storage-failed", rejectedId: message.messageId });
    expect(error.payload.permanent).toBeUndefined();
    expect(reported).toHaveLength(1);
    expect(reported[0]).toBeInstanceOf(KalphitePersistenceError);
    expect((reported[0] as Error).message).toContain(room);
    expect((reported[0] as Error).cause).toBe(failure);
    void decideChange;
  });
});
