// A join of a 100,000-entity room and a long catch-up arrive in pages: no frame over
// maxFrameBytes, each page read from storage on its own, every entity exactly once.
import { describe, expect, it } from "vitest";
import { decideChange, type IncomingChange } from "../../src/server/conflict.js";
import { memoryStorage, pgliteStorage, type SyncStorage } from "../../src/server/index.js";
import { comment } from "../fixtures/schema.js";
import { cleanupAfterEach, devServer, envelope, rawClient, uniqueName } from "./helpers.js";

const cleanups = cleanupAfterEach();

async function seed(storage: SyncStorage, room: string, count: number, body = "") {
  for (let start = 0; start < count; start += 5_000) {
    const changes: IncomingChange[] = [];
    for (let i = start; i < Math.min(count, start + 5_000); i++)
      changes.push({
        messageId: `m${i}`,
        userId: "ann",
        timestamp: 1,
        operation: "upsert",
        entityType: "comment",
        entityId: `c${String(i).padStart(6, "0")}`,
        entity: comment(`c${String(i).padStart(6, "0")}`, { body, lineNumber: i }),
        vector: {},
        strategy: "last-write-wins",
      });
    await storage.commit(room, changes, (change, current) =>
      decideChange(current, change, (e) => e),
    );
  }
}

/** Joins and reads the whole snapshot page by page; returns the entities and the largest frame. */
async function joinAll(url: string, room: string) {
  const client = await rawClient(url);
  cleanups.push(() => client.close());
  let largest = 0;
  client.socket.on("message", (data) => {
    largest = Math.max(largest, (data as Buffer).length);
  });
  client.send(envelope("hello", { protocol: 1, roomId: room, token: "", cursor: 0 }, "bob"));
  let page = await client.next((m) => m.type === "welcome", "welcome");
  const head = page.payload.head as number;
  const total = page.payload.snapshotTotal as number;
  const ids: string[] = [];
  let pages = 1;
  for (;;) {
    for (const version of page.payload.snapshot) ids.push(version.entityId);
    const next = page.payload.snapshotNext as string | undefined;
    if (!next) break;
    client.send(envelope("fetch", { after: head, snapshotFrom: next, snapshotHead: head }, "bob"));
    page = await client.next((m) => m.type === "catch-up", `page ${++pages}`);
    expect(page.payload.head).toBe(head);
  }
  return { ids, total, pages, largest, head, client };
}

describe("paged join and catch-up", () => {
  it("streams a 100,000-entity room in pages of at most 256 KiB", async () => {
    const storage = memoryStorage();
    const room = uniqueName("big");
    await seed(storage, room, 100_000);
    const server = await devServer(cleanups, { storage });
    const { ids, total, pages, largest } = await joinAll(server.url, room);
    expect(total).toBe(100_000);
    expect(ids.length).toBe(100_000);
    expect(new Set(ids).size).toBe(100_000);
    expect(largest).toBeLessThanOrEqual(256 * 1024);
    expect(pages).toBeGreaterThan(50);
  }, 120_000);

  it("pages a PGlite room by keyset, page by page, with a smaller maxFrameBytes", async () => {
    const storage = await pgliteStorage();
    cleanups.push(() => storage.close());
    const room = uniqueName("pg");
    await seed(storage, room, 10_000, "x".repeat(100));
    const server = await devServer(cleanups, { storage, maxFrameBytes: 64 * 1024 });
    const { ids, total, largest } = await joinAll(server.url, room);
    expect(total).toBe(10_000);
    expect(new Set(ids).size).toBe(10_000);
    expect(largest).toBeLessThanOrEqual(64 * 1024);
  }, 120_000);

  it("a catch-up from a cursor comes in pages too; every entry once, in order", async () => {
    const storage = memoryStorage();
    const room = uniqueName("log");
    await seed(storage, room, 5_000, "y".repeat(1_000));
    const server = await devServer(cleanups, { storage });
    const client = await rawClient(server.url);
    cleanups.push(() => client.close());
    let largest = 0;
    client.socket.on("message", (data) => {
      largest = Math.max(largest, (data as Buffer).length);
    });
    client.send(envelope("hello", { protocol: 1, roomId: room, token: "", cursor: 1 }, "bob"));
    let page = await client.next((m) => m.type === "welcome", "welcome");
    const seqs: number[] = [];
    for (;;) {
      for (const entry of page.payload.entries) seqs.push(entry.seq);
      const last = seqs.at(-1) ?? 1;
      if (last >= page.payload.head) break;
      client.send(envelope("fetch", { after: last }, "bob"));
      page = await client.next((m) => m.type === "catch-up", `after ${last}`);
    }
    expect(seqs).toEqual(Array.from({ length: 4_999 }, (_, i) => i + 2));
    expect(largest).toBeLessThanOrEqual(256 * 1024);
  }, 60_000);

  it("a snapshotFrom that the server did not send is refused as invalid, not a storage failure", async () => {
    const server = await devServer(cleanups);
    const client = await rawClient(server.url);
    cleanups.push(() => client.close());
    client.send(
      envelope("hello", { protocol: 1, roomId: uniqueName("r"), token: "", cursor: 0 }, "bob"),
    );
    await client.next((m) => m.type === "welcome", "welcome");
    client.send(envelope("fetch", { after: 0, snapshotFrom: "nonsense", snapshotHead: 0 }, "bob"));
    const error = await client.next((m) => m.type === "error", "the refusal");
    expect(error.payload.code).toBe("invalid-message");
  });
});
