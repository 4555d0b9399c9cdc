// A first join in pages: the client asks for each next page, shows nothing until the last one is
// in, then applies the snapshot at once and the entries after it, with progress on `snapshot`.
import { describe, expect, it } from "vitest";
import type { SnapshotEntity } from "../../src/protocol/index.js";
import type { SnapshotProgress } from "../../src/sync/index.js";
import { comment, logUpsert } from "../fixtures/schema.js";
import { cleanupAfterEach, waitUntil } from "../server/helpers.js";
import { type DevClient, devClient } from "../support/dev-client.js";
import { scriptedServer, welcome } from "./support/scripted-server.js";

const cleanups = cleanupAfterEach();

/** A room's snapshot: comments 1..30 at seq 1..30, in three pages of ten; `id` names each. */
function snapshotPages(id: (i: number) => string = (i) => `c${i}`): SnapshotEntity[][] {
  const version = (i: number): SnapshotEntity => ({
    entityType: "comment",
    entityId: id(i),
    entity: comment(id(i), { lineNumber: i }),
    vector: { bob: 1 },
    seq: i,
  });
  return [0, 1, 2].map((p) => Array.from({ length: 10 }, (_, i) => version(p * 10 + i + 1)));
}

/** The welcome of a first join whose snapshot (head 30) comes in `pages`: the first one. */
function pagedWelcome(hello: Parameters<typeof welcome>[0], pages: SnapshotEntity[][]) {
  return welcome(hello, {
    head: 30,
    entries: undefined,
    snapshot: pages[0],
    snapshotNext: "p1",
    snapshotTotal: 30,
  });
}

/** A client of `url`, `watch`ed from before it connects, once its cursor is at `cursor`. */
async function caughtUp(url: string, cursor: number, watch: (client: DevClient) => void) {
  const client = devClient(cleanups, { url });
  watch(client);
  await client.engine.connect();
  await waitUntil(
    () => client.engine.getCursor() === cursor,
    { engines: [client.engine], stores: [client.store] },
    "caught up",
  );
  return client;
}

describe("a snapshot in pages", { timeout: 30_000 }, () => {
  it("is shown only once its last page is in, then the entries after its head", async () => {
    // The room: 30 entities at seq 1..30 (the snapshot, head 30), then one more change at 31.
    const pages = snapshotPages();
    const after = logUpsert(31, comment("c1", { body: "after the snapshot" }), { bob: 2 });
    const server = await scriptedServer((message, connection) => {
      if (message.type === "hello") connection.send("welcome", pagedWelcome(message, pages));
      if (message.type === "fetch" && message.payload.snapshotFrom === "p1")
        connection.send("catch-up", {
          head: 31,
          snapshot: pages[1],
          snapshotNext: "p2",
          snapshotTotal: 30,
          snapshotFrom: "p1",
        });
      if (message.type === "fetch" && message.payload.snapshotFrom === "p2")
        connection.send("catch-up", {
          head: 31,
          snapshot: pages[2],
          snapshotTotal: 30,
          snapshotFrom: "p2",
        });
      if (message.type === "fetch" && message.payload.snapshotFrom === undefined)
        connection.send("catch-up", { head: 31, entries: [after] });
    });
    cleanups.push(() => server.close());
    const progress: (SnapshotProgress & { shown: number })[] = [];
    const { store } = await caughtUp(server.url, 31, ({ store, engine }) =>
      engine.on("snapshot", (p) => progress.push({ ...p, shown: store.comment.length })),
    );

    expect(progress).toEqual([
      { loaded: 10, total: 30, done: false, shown: 0 },
      { loaded: 20, total: 30, done: false, shown: 0 },
      { loaded: 30, total: 30, done: true, shown: 30 },
    ]);
    const fetches = server.received.filter((m) => m.type === "fetch").map((m) => m.payload);
    expect(fetches).toEqual([
      { after: 0, snapshotFrom: "p1", snapshotHead: 30 },
      { after: 0, snapshotFrom: "p2", snapshotHead: 30 },
      { after: 30 },
    ]);
    expect(store.comment.length).toBe(30);
    expect(store.comment.findById("c1")?.data.body).toBe("after the snapshot");
  });
  it("a broadcast while paging starts no second snapshot: a stale page never replaces the room", async () => {
    // A group commit broadcast (entries with a gap) arrives while the pages of a first join are
    // still coming. A fetch from the old cursor would be answered with a new first page, and a
    // page of that second chain, taken for a whole room, deleted the rest of it.
    const pages = snapshotPages((i) => `c${String(i).padStart(3, "0")}`);
    const entry = (seq: number) =>
      logUpsert(seq, comment("c030", { body: `v${seq}` }), { bob: seq - 29 });
    const server = await scriptedServer((message, connection) => {
      if (message.type === "hello") {
        connection.send("welcome", pagedWelcome(message, pages));
        connection.send("catch-up", { head: 33, entries: [entry(32), entry(33)] });
      }
      if (message.type !== "fetch") return;
      const from = message.payload.snapshotFrom;
      if (from === undefined && message.payload.after === 0)
        connection.send("catch-up", {
          head: 33,
          snapshot: pages[0],
          snapshotNext: "p1",
          snapshotTotal: 30,
        });
      else if (from === "p1")
        connection.send("catch-up", {
          head: 30,
          snapshot: pages[1],
          snapshotNext: "p2",
          snapshotFrom: "p1",
        });
      else if (from === "p2")
        connection.send("catch-up", { head: 30, snapshot: pages[2], snapshotFrom: "p2" });
      else if (from === undefined)
        connection.send("catch-up", { head: 33, entries: [entry(31), entry(32), entry(33)] });
    });
    cleanups.push(() => server.close());
    const shown: number[] = [];
    const { store } = await caughtUp(server.url, 33, ({ store, engine }) =>
      engine.on("snapshot", (p) => {
        if (p.done) shown.push(store.comment.length);
      }),
    );

    expect(shown).toEqual([30]);
    expect(store.comment.length).toBe(30);
    expect(store.comment.findById("c001")).toBeDefined();
    expect(store.comment.findById("c030")?.data.body).toBe("v33");
    const fetches = server.received.filter((m) => m.type === "fetch").map((m) => m.payload);
    expect(fetches.filter((f) => f.snapshotFrom === undefined && f.after === 0)).toEqual([]);
  });
});
