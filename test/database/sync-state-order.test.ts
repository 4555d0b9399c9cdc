// The order in which a FrontendDatabase commits sync deltas beside the entity rows they belong
// with, where a flush batch takes only part of what is queued: a snapshot's reset and a version
// forgotten, queued ahead of their rows; a shown version a waiting batch marked, taken by a write
// of the sync state's own; and deltas put back after a failed write. At every commit point the
// reload must show each entity as before or as after its change, never a mix.
import { PGlite } from "@electric-sql/pglite";
import { describe, expect, it, vi } from "vitest";
import { KalphiteStorageLimitError } from "../../src/core/index.js";
import { FrontendDatabase } from "../../src/database/index.js";
import { SYNC_OUTBOX } from "../../src/database/sql.js";
import type { SyncDelta } from "../../src/sync/index.js";
import { type Comment, comment, Entity, outboxUpsert } from "../fixtures/schema.js";
import { cleanupAfterEach } from "../server/helpers.js";
import { pausedPersistence } from "./paused-persistence.js";

const cleanups = cleanupAfterEach();

const persisted = (options: { maxStorageMB?: number } = {}) => pausedPersistence(cleanups, options);

const key = (id: string) => ({ entityType: "comment", entityId: id });

function version(entity: Comment, seq: number, shown = true): SyncDelta {
  const v = { entityType: "comment", entityId: entity.id, entity, vector: { bob: seq }, seq };
  return { kind: "version", shown, version: v };
}

const upsert = (entity: Comment) => ({
  operation: "upsert" as const,
  entityType: "comment",
  entityId: entity.id,
  entity,
  timestamp: 1,
});

const remove = (id: string) => ({
  operation: "delete" as const,
  entityType: "comment",
  entityId: id,
  timestamp: 1,
});

/** What a reload finds: each version's entity (`"row"` when left to the row), and the rows. */
async function reload(db: FrontendDatabase<Entity>) {
  const loaded = await db.syncState("room").load();
  const versions: Record<string, unknown> = {};
  for (const v of loaded?.versions ?? [])
    versions[v.entityId] = v.entity === undefined ? "row" : (v.entity as Comment | null)?.data.body;
  const rows: Record<string, string> = {};
  for (const row of await db.getByType("comment")) rows[row.id] = (row as Comment).data.body;
  return { versions, rows, outbox: loaded?.outbox.map((e) => e.messageId) ?? [], loaded };
}

/** Entities a, b, c, u and x, synced at seq 1: rows and versions shown. */
async function synced() {
  const client = await persisted();
  const { db, state } = client;
  const old = ["a", "b", "c", "u", "x"].map((id) => comment(id, { body: `${id}@1` }));
  for (const entity of old) state.record(version(entity, 1), key(entity.id));
  await db.applyChanges(old.map(upsert));
  expect((await reload(db)).versions).toEqual({ a: "row", b: "row", c: "row", u: "row", x: "row" });
  return client;
}

describe("sync deltas queued ahead of their entity rows", { timeout: 60_000 }, () => {
  it("a snapshot's reset committed with the first of its rows keeps the versions of the rows not in yet: each entity reloads as before, then after with its row", async () => {
    const { db, state } = await synced();
    // A snapshot changes a, b and c (u is unchanged, x is not in it): as a replica records it.
    const next = ["a", "b", "c", "u"].map((id) =>
      comment(id, { body: id === "u" ? "u@1" : `${id}@2` }),
    );
    const [a, b, c, u] = next as [Comment, Comment, Comment, Comment];
    state.record({ kind: "reset-versions" }, key("a"));
    state.record(version(a, 2), key("a"));
    state.record(version(b, 2), key("b"));
    state.record(version(c, 2), key("c"));
    state.record(version(u, 2));
    state.record({ kind: "cursor", cursor: 2 });
    // The flush engine writes a alone (maxBatchSize), and the process stops there.
    await db.applyChanges([upsert(a)]);
    const after = await reload(db);
    expect(after.rows).toEqual({ a: "a@2", b: "b@1", c: "c@1", u: "u@1", x: "x@1" });
    // b, c and u: their versions before the snapshot, left to their rows (which still hold
    // them), their new versions still queued; no entity is stored twice. x's row is the
    // replica's to pair with a delta (it records none). The cursor waits for the rest.
    expect(after.versions).toEqual({ a: "row", b: "row", c: "row", u: "row" });
    expect(after.loaded?.versions.find((v) => v.entityId === "b")?.seq).toBe(1);
    expect(after.loaded?.cursor).toBe(0);
    // The rest commits: the rows and their versions together, then u's version and the cursor.
    await db.applyChanges([upsert(b), upsert(c), remove("x")]);
    await state.flush();
    const done = await reload(db);
    expect(done.versions).toEqual({ a: "row", b: "row", c: "row", u: "row" });
    expect(done.loaded?.versions.map((v) => v.seq)).toEqual([2, 2, 2, 2]);
    expect(done.loaded?.cursor).toBe(2);
  });

  it("a reset taken ahead of its first row (by a batch of a later entity) keeps the versions still queued", async () => {
    const { db, state } = await synced();
    const [a, b, c] = ["a", "b", "c"].map((id) => comment(id, { body: `${id}@2` })) as Comment[];
    state.record({ kind: "reset-versions" }, key("b"));
    state.record(version(b!, 2), key("b"));
    state.record(version(a!, 2), key("a"));
    state.record(version(c!, 2), key("c"));
    await db.applyChanges([upsert(a!)]);
    const after = await reload(db);
    expect(after.rows).toMatchObject({ a: "a@2", b: "b@1", c: "c@1" });
    // b, taken ahead of its row, with its entity; c as it was until its row commits.
    expect(after.versions).toEqual({ a: "row", b: "b@2", c: "row" });
    await db.applyChanges([upsert(b!), upsert(c!)]);
    await state.flush();
    // b's version went ahead with its entity (stored twice until b changes again); c with its row.
    expect((await reload(db)).versions).toEqual({ a: "row", b: "b@2", c: "row" });
  });

  it("a version forgotten ahead of its row stays until the row goes: the reload shows the entity before, then after", async () => {
    const { db, state } = await synced();
    const y = comment("y", { body: "mine" });
    state.record({ kind: "forget-version", entityType: "comment", entityId: "x" }, key("x"));
    state.record({ kind: "outbox-add", entry: outboxUpsert(y) }, key("y"));
    state.record({ kind: "cursor", cursor: 2 });
    await db.applyChanges([upsert(y)]);
    const before = await reload(db);
    expect(before.rows.x).toBe("x@1");
    expect(before.versions.x).toBe("row");
    expect(before.outbox).toEqual(["m-y"]);
    // The cursor, recorded after the forget, waits for it.
    expect(before.loaded?.cursor).toBe(0);
    await db.applyChanges([remove("x")]);
    const after = await reload(db);
    expect(after.rows.x).toBeUndefined();
    expect(after.versions.x).toBeUndefined();
    expect(after.loaded?.cursor).toBe(2);
  });

  it("a version forgotten after a reset, ahead of its row: the reset keeps it until the row goes", async () => {
    const { db, state } = await synced();
    const a = comment("a", { body: "a@2" });
    state.record({ kind: "reset-versions" }, key("a"));
    state.record(version(a, 2), key("a"));
    state.record({ kind: "forget-version", entityType: "comment", entityId: "x" }, key("x"));
    await db.applyChanges([upsert(a)]);
    const between = await reload(db);
    expect(between.rows).toMatchObject({ a: "a@2", x: "x@1" });
    expect(between.versions).toEqual({ a: "row", x: "row" });
    await db.applyChanges([remove("x")]);
    expect((await reload(db)).versions).toEqual({ a: "row" });
  });

  it("a forget a later version of the same entity supersedes is written with it", async () => {
    const { db, state } = await synced();
    const x = comment("x", { body: "x@3" });
    const y = comment("y", { body: "mine" });
    state.record({ kind: "forget-version", entityType: "comment", entityId: "x" }, key("x"));
    state.record(version(x, 3), key("x"));
    state.record({ kind: "outbox-add", entry: outboxUpsert(y) }, key("y"));
    await db.applyChanges([upsert(y)]);
    const after = await reload(db);
    expect(after.rows.x).toBe("x@1");
    expect(after.versions.x).toBe("x@3");
    expect(after.outbox).toEqual(["m-y"]);
  });
});

describe("a write of the sync state's own beside a waiting flush batch", {
  timeout: 60_000,
}, () => {
  it("a batch's take (or a flush() of its own) leaves a shown version a later batch marked to that batch: its row and it commit together or not at all", async () => {
    const { db, state } = await persisted({ maxStorageMB: 0.05 });
    const y = comment("y", { body: "small" });
    const x = comment("x", { body: "x".repeat(80_000) }); // past maxStorageMB: its batch fails
    state.record({ kind: "outbox-add", entry: outboxUpsert(y) }, key("y"));
    // A batch writing y is in progress; flush() queues its own write behind it.
    const first = db.applyChanges([upsert(y)]);
    state.record({ kind: "cursor", cursor: 1 });
    const flushed = state.flush();
    // Then a remote version of x, shown, and the batch that writes x's row (queued after flush's).
    state.record(version(x, 1), key("x"));
    const second = db.applyChanges([upsert(x)]);
    await first;
    await flushed;
    await expect(second).rejects.toThrow(KalphiteStorageLimitError);
    const after = await reload(db);
    expect(after.rows).toEqual({ y: "small" });
    // x's version was not committed without its row (a reload would pair it with no entity).
    expect(after.versions).toEqual({});
    expect(after.loaded?.cursor).toBe(1);
  });

  it("a flush() of its own, queued behind a load, leaves the shown version a later batch marked to that batch", async () => {
    const { db, state } = await persisted({ maxStorageMB: 0.05 });
    const x = comment("x", { body: "x".repeat(80_000) }); // past maxStorageMB: its batch fails
    // The load holds the database's writes: flush()'s write waits behind it, the batch's behind both.
    const loading = state.load();
    state.record({ kind: "cursor", cursor: 1 });
    const flushed = state.flush();
    state.record(version(x, 1), key("x"));
    const batch = db.applyChanges([upsert(x)]);
    await loading;
    await flushed;
    await expect(batch).rejects.toThrow(KalphiteStorageLimitError);
    const after = await reload(db);
    expect(after.rows).toEqual({});
    expect(after.versions).toEqual({});
    expect(after.loaded?.cursor).toBe(1);
  });

  it("when the batch commits, the shown version is committed with its row (and left to it)", async () => {
    const { db, state } = await persisted();
    const y = comment("y", { body: "small" });
    const x = comment("x", { body: "x@1" });
    const points: Awaited<ReturnType<typeof reload>>[] = [];
    state.record({ kind: "outbox-add", entry: outboxUpsert(y) }, key("y"));
    const first = db.applyChanges([upsert(y)]);
    state.record({ kind: "cursor", cursor: 1 });
    const flushed = state.flush().then(async () => {
      points.push(await reload(db));
    });
    state.record(version(x, 1), key("x"));
    const second = db.applyChanges([upsert(x)]);
    await Promise.all([first, flushed, second]);
    points.push(await reload(db));
    for (const point of points) {
      // The version is in exactly when the row is.
      expect(point.versions.x === undefined, JSON.stringify(point)).toBe(
        point.rows.x === undefined,
      );
    }
    expect(points.at(-1)?.versions).toEqual({ x: "row" });
    expect(points.at(-1)?.rows).toEqual({ x: "x@1", y: "small" });
  });
});

describe("putBack", { timeout: 60_000 }, () => {
  /** Fails the next `count` inserts into the outbox table, inside their transactions. */
  function failOutboxInserts() {
    let armed = 0;
    const fails = (sql: unknown) => {
      if (armed === 0 || !String(sql).includes(`insert into ${SYNC_OUTBOX}`)) return false;
      armed--;
      return true;
    };
    const query = PGlite.prototype.query;
    const transaction = PGlite.prototype.transaction;
    const spies = [
      vi.spyOn(PGlite.prototype, "query").mockImplementation(function (
        this: PGlite,
        ...args: Parameters<PGlite["query"]>
      ) {
        if (fails(args[0])) return Promise.reject(new Error("disk unplugged"));
        return query.apply(this, args) as never;
      }),
      vi.spyOn(PGlite.prototype, "transaction").mockImplementation(function (
        this: PGlite,
        fn: Parameters<PGlite["transaction"]>[0],
      ) {
        return transaction.call(this, (tx) =>
          fn(
            new Proxy(tx, {
              get(target, name, receiver) {
                if (name !== "query") return Reflect.get(target, name, receiver);
                return (...args: Parameters<typeof tx.query>) =>
                  fails(args[0])
                    ? Promise.reject(new Error("disk unplugged"))
                    : target.query(...args);
              },
            }),
          ),
        ) as never;
      }),
    ];
    cleanups.push(() => {
      for (const spy of spies) spy.mockRestore();
    });
    return (count = 1) => {
      armed = count;
    };
  }

  it("a failed write of the sync state's own puts its deltas back: the next flush writes each once, in order", async () => {
    const arm = failOutboxInserts();
    const db = new FrontendDatabase({ dbName: "memory://", schema: Entity });
    cleanups.push(() => db.close());
    const state = db.syncState("room");
    await state.load();
    const [m1, m2, m3] = ["p", "q", "r"].map((id) => outboxUpsert(comment(id)));
    state.record({ kind: "outbox-add", entry: m1! });
    state.record({ kind: "outbox-add", entry: m2! });
    state.record({ kind: "cursor", cursor: 3 });
    arm();
    await expect(state.flush()).rejects.toThrow(/Writing the sync state of room "room"/);
    expect((await db.syncState("room").load())?.outbox ?? []).toEqual([]);
    // Recorded after the failure, behind the deltas put back.
    state.record({ kind: "outbox-remove", messageId: m1!.messageId });
    state.record({ kind: "outbox-add", entry: m3! });
    await state.flush();
    const loaded = await db.syncState("room").load();
    expect(loaded?.outbox.map((e) => e.messageId)).toEqual(["m-q", "m-r"]);
    expect(loaded?.cursor).toBe(3);
    // Nothing is left to write twice.
    expect(state.take()).toEqual([]);
  });

  it("keeps deltas as satisfied as they were: one whose entity had nothing left to flush does not wait again", async () => {
    const arm = failOutboxInserts();
    const { db, persistence, state } = await persisted();
    const z = comment("z", { body: "never in the store" });
    state.record({ kind: "outbox-add", entry: outboxUpsert(z) }, key("z"));
    const engineFlush = vi.spyOn(persistence.engine, "flush");
    arm();
    await expect(state.flush()).rejects.toThrow(/disk unplugged|Writing the sync state/);
    expect(engineFlush).toHaveBeenCalledTimes(1);
    const taken = state.take();
    expect(taken.map((p) => [p.delta.kind, p.satisfied])).toEqual([["outbox-add", true]]);
    state.putBack(taken);
    await state.flush();
    // Written on its own, without asking the flush engine again.
    expect(engineFlush).toHaveBeenCalledTimes(1);
    expect((await reload(db)).outbox).toEqual(["m-z"]);
  });

  it("a failed flush batch puts back what it took ahead and what it marked: the retry commits rows and deltas together, nothing twice", async () => {
    const arm = failOutboxInserts();
    const { db, state } = await persisted();
    const x = comment("x", { body: "the server's" });
    const y = comment("y", { body: "mine" });
    state.record(version(x, 1), key("x"));
    state.record({ kind: "outbox-add", entry: outboxUpsert(y) }, key("y"));
    state.record({ kind: "cursor", cursor: 1 });
    arm();
    await expect(db.applyChanges([upsert(y)])).rejects.toThrow();
    const failed = await reload(db);
    expect(failed).toMatchObject({ versions: {}, rows: {}, outbox: [] });
    // y's delta waits for its row again; x's (taken ahead) waits for x's.
    const queued = state.take();
    expect(queued).toEqual([]);
    await db.applyChanges([upsert(y)]);
    const after = await reload(db);
    expect(after.rows).toEqual({ y: "mine" });
    expect(after.outbox).toEqual(["m-y"]);
    expect(after.versions).toEqual({ x: "the server's" });
    await db.applyChanges([upsert(x)]);
    await state.flush();
    const done = await reload(db);
    expect(done.outbox).toEqual(["m-y"]);
    expect(done.loaded?.cursor).toBe(1);
    expect(done.rows).toEqual({ x: "the server's", y: "mine" });
  });
});
