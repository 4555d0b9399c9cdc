// Compaction: superseded entries past the horizon are dropped, the latest version of every
// entity stays, resends of dropped entries are still resends, tombstones go only after their
// time, and a client behind the horizon catches up by snapshot.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideChange, type IncomingChange } from "../../src/server/conflict.js";
import {
  memoryStorage,
  pgliteStorage,
  postgresStorage,
  type SyncStorage,
} from "../../src/server/index.js";
import { comment } from "../fixtures/schema.js";
import {
  cleanupAfterEach,
  devServer,
  envelope,
  POSTGRES_URL,
  rawClient,
  uniqueName,
} from "./helpers.js";

const variants: [string, () => Promise<SyncStorage>][] = [
  ["memory", async () => memoryStorage()],
  ["pglite", () => pgliteStorage({ tablePrefix: `${uniqueName("p").toLowerCase()}_` })],
  [
    "postgres",
    () => postgresStorage({ url: POSTGRES_URL, tablePrefix: `${uniqueName("s").toLowerCase()}_` }),
  ],
];

const decide = (change: IncomingChange, current: Parameters<typeof decideChange>[0]) =>
  decideChange(current, change, (e) => e);

function change(
  messageId: string,
  id: string,
  body: string | null,
  vector: Record<string, number>,
  timestamp = 1_000,
): IncomingChange {
  return {
    messageId,
    userId: "ann",
    timestamp,
    operation: body === null ? "delete" : "upsert",
    entityType: "comment",
    entityId: id,
    ...(body === null ? {} : { entity: comment(id, { body }, timestamp) }),
    vector,
    strategy: "last-write-wins",
  };
}

/** `updates` writes, round-robin over `entities` entities, each on the version before it. */
async function churn(storage: SyncStorage, room: string, entities: number, updates: number) {
  const vectors = new Map<string, Record<string, number>>();
  for (let start = 0; start < updates; start += 2_000) {
    const batch: IncomingChange[] = [];
    for (let i = start; i < Math.min(updates, start + 2_000); i++) {
      const id = `c${i % entities}`;
      const vector = vectors.get(id) ?? {};
      batch.push(change(`m${i}`, id, `v${i}`, vector));
      vectors.set(id, { ann: (vector.ann ?? 0) + 1 });
    }
    await storage.commit(room, batch, decide);
  }
}

describe.each(variants)("compaction: %s", (_name, create) => {
  let storage: SyncStorage;
  beforeAll(async () => {
    storage = await create();
  }, 120_000);
  afterAll(async () => {
    await storage?.close();
  });

  it("20,000 updates of 100 entities leave 100 log rows; the versions are unchanged", async () => {
    const room = uniqueName("room");
    await churn(storage, room, 100, 20_000);
    const before = await storage.snapshot(room);
    const { removed } = await storage.compact(room, { horizon: 20_000, tombstonesBefore: 0 });
    expect(removed).toBe(19_900);
    const log = await storage.entriesAfter(room, 0, 1_000_000);
    expect(log).toHaveLength(100);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 19_901 + i));
    expect(await storage.horizon(room)).toBe(20_000);
    expect(await storage.head(room)).toBe(20_000);
    const after = await storage.snapshot(room);
    const key = (v: { entityId: string }) => v.entityId;
    expect([...after.versions].sort((a, b) => (key(a) < key(b) ? -1 : 1))).toEqual(
      [...before.versions].sort((a, b) => (key(a) < key(b) ? -1 : 1)),
    );
  }, 120_000);

  it("keeps every entry after the horizon, so cursors at or above it still catch up", async () => {
    const room = uniqueName("room");
    await churn(storage, room, 10, 100);
    await storage.compact(room, { horizon: 60, tombstonesBefore: 0 });
    const tail = await storage.entriesAfter(room, 60);
    expect(tail.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => 61 + i));
    expect(await storage.horizon(room)).toBe(60);
  });

  it("answers a resend of a compacted entry as a duplicate, not a new change", async () => {
    const room = uniqueName("room");
    await storage.commit(room, [change("first", "c1", "one", {})], decide);
    await storage.commit(room, [change("second", "c1", "two", { ann: 1 })], decide);
    await storage.compact(room, { horizon: 2, tombstonesBefore: 0 });
    expect(await storage.entriesAfter(room, 0)).toHaveLength(1);
    const [again] = await storage.commit(room, [change("first", "c1", "one", {})], decide);
    expect(again?.duplicate).toBe(true);
    expect(await storage.head(room)).toBe(2);
    const snapshot = await storage.snapshot(room);
    expect(snapshot.versions[0]?.entity).toMatchObject({ data: { body: "two" } });
  });

  it("keeps a tombstone until its time, then forgets the entity", async () => {
    const room = uniqueName("room");
    // Stored at server times 1,000 to 3,000 (the writer's clock says the same here).
    await storage.commit(room, [change("a", "c1", "one", {}, 1_000)], decide, { now: 1_000 });
    await storage.commit(room, [change("b", "c1", null, { ann: 1 }, 2_000)], decide, {
      now: 2_000,
    });
    await storage.commit(room, [change("c", "c2", "kept", {}, 3_000)], decide, { now: 3_000 });
    await storage.compact(room, { horizon: 3, tombstonesBefore: 2_000 });
    let versions = (await storage.snapshot(room)).versions;
    expect(versions.find((v) => v.entityId === "c1")).toMatchObject({ entity: null, seq: 2 });
    await storage.compact(room, { horizon: 3, tombstonesBefore: 2_001 });
    versions = (await storage.snapshot(room)).versions;
    expect(versions.map((v) => v.entityId)).toEqual(["c2"]);
    expect((await storage.entriesAfter(room, 0)).map((e) => e.messageId)).toEqual(["c"]);
  });

  it("expires compacted ids and tombstones by the server's clock, not the writer's (behind)", async () => {
    const room = uniqueName("room");
    const day = 24 * 3_600_000;
    const stored = 100 * day; // the server's clock when it stored the changes
    // A device whose clock is 50 days behind: its changes claim times long before `stored`.
    const behind = stored - 50 * day;
    const writes = [
      change("first", "c1", "one", {}, behind),
      change("second", "c1", "two", { ann: 1 }, behind + 1),
      change("made", "c2", "two", {}, behind + 2),
      change("gone", "c2", null, { ann: 1 }, behind + 3),
    ];
    await storage.commit(room, writes, decide, { now: stored });
    // A day later the server compacts with a 30-day TTL: nothing is 30 days old on its clock.
    await storage.compact(room, { horizon: 4, tombstonesBefore: stored + day - 30 * day });
    const versions = (await storage.snapshot(room)).versions;
    expect(versions.find((v) => v.entityId === "c2")).toMatchObject({ entity: null, seq: 4 });
    // The compacted "first" is still known: its resend is a duplicate, not applied again.
    const [again] = await storage.commit(room, [writes[0] as IncomingChange], decide, {
      now: stored + day,
    });
    expect(again).toMatchObject({ duplicate: true, entry: { seq: 2 } });
    expect(await storage.head(room)).toBe(4);
    // Past the TTL on the server's clock both go.
    await storage.compact(room, { horizon: 4, tombstonesBefore: stored + 1 });
    expect((await storage.snapshot(room)).versions.map((v) => v.entityId)).toEqual(["c1"]);
    const [late] = await storage.commit(room, [writes[0] as IncomingChange], decide, {
      now: stored + 31 * day,
    });
    expect(late?.duplicate).toBeUndefined();
  });
});

describe("compaction on a database made before stored_at", () => {
  it("an upgraded database keeps its compacted ids and tombstones for the TTL from the upgrade", async () => {
    const { default: pg } = await import("pg");
    const p = `${uniqueName("old").toLowerCase()}_`;
    const room = uniqueName("room");
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      // The tables as the previous release made them, with a compacted id and a tombstone whose
      // writer's clock said 1970.
      await client.query(
        `CREATE TABLE ${p}rooms (room_id text PRIMARY KEY, head bigint NOT NULL DEFAULT 0, horizon bigint NOT NULL DEFAULT 0);
         CREATE TABLE ${p}log (room_id text NOT NULL, seq bigint NOT NULL, message_id text NOT NULL, user_id text NOT NULL,
           ts double precision NOT NULL, operation text NOT NULL, entity_type text NOT NULL, entity_id text NOT NULL,
           entity jsonb, vector jsonb NOT NULL, conflict jsonb, PRIMARY KEY (room_id, seq));
         CREATE TABLE ${p}compacted (room_id text NOT NULL, message_id text NOT NULL, entity_type text NOT NULL,
           entity_id text NOT NULL, ts double precision NOT NULL, PRIMARY KEY (room_id, message_id));
         CREATE TABLE ${p}entities (room_id text NOT NULL, entity_type text NOT NULL, entity_id text NOT NULL,
           entity jsonb, vector jsonb NOT NULL, seq bigint NOT NULL, ts double precision NOT NULL, user_id text NOT NULL,
           message_id text NOT NULL, PRIMARY KEY (room_id, entity_type, entity_id));`,
      );
      await client.query(
        `INSERT INTO ${p}rooms VALUES ($1, 2, 1);
         INSERT INTO ${p}log VALUES ($1, 2, 'second', 'ann', 1001, 'delete', 'comment', 'c1', NULL, '{"ann":2}', NULL);
         INSERT INTO ${p}compacted VALUES ($1, 'first', 'comment', 'c1', 1000);
         INSERT INTO ${p}entities VALUES ($1, 'comment', 'c1', NULL, '{"ann":2}', 2, 1001, 'ann', 'second');`.replaceAll(
          "$1",
          `'${room}'`,
        ),
      );
    } finally {
      await client.end();
    }
    const before = Date.now();
    const storage = await postgresStorage({ url: POSTGRES_URL, tablePrefix: p });
    try {
      // A 30-day TTL on the server's clock: the rows count from the upgrade, so they stay.
      await storage.compact(room, { horizon: 2, tombstonesBefore: before - 30 * 24 * 3_600_000 });
      expect((await storage.snapshot(room)).versions).toMatchObject([
        { entityId: "c1", entity: null, seq: 2 },
      ]);
      const [resend] = await storage.commit(
        room,
        [change("first", "c1", "one", {}, 1_000)],
        decide,
      );
      expect(resend).toMatchObject({ duplicate: true, entry: { seq: 2 } });
      // Their time is the upgrade's, not before it: a TTL ending just before it keeps them too.
      await storage.compact(room, { horizon: 2, tombstonesBefore: before });
      expect((await storage.snapshot(room)).versions.map((v) => v.entityId)).toEqual(["c1"]);
    } finally {
      await storage.close();
    }
  });
});

describe("compaction over a real socket", () => {
  const cleanups = cleanupAfterEach();

  it("a client behind the horizon catches up by snapshot that shows what was deleted while away", async () => {
    const storage = memoryStorage();
    const server = await devServer(cleanups, { storage, compaction: false });
    const room = uniqueName("room");
    const writer = await rawClient(server.url);
    cleanups.push(() => writer.close());
    writer.send(envelope("hello", { protocol: 1, roomId: room, token: "", cursor: 0 }, "ann"));
    await writer.next((m) => m.type === "welcome", "welcome");
    const send = async (id: string, messageId: string, body: string | null, vector: object) => {
      const payload =
        body === null
          ? { operation: "delete", entityType: "comment", entityId: id, vector }
          : {
              operation: "upsert",
              entityType: "comment",
              entityId: id,
              entity: comment(id, { body }, Date.now()),
              vector,
            };
      writer.send(envelope("change", payload, "ann", messageId));
      return (
        await writer.next((m) => m.type === "ack" && m.payload.ackedId === messageId, messageId)
      ).payload.entry;
    };
    let v1 = (await send("c1", "a1", "one", {})).vector;
    const v2 = (await send("c2", "b1", "two", {})).vector;
    // Bob was here at seq 2, then left; c1 is edited many times and c2 deleted while he is away.
    for (let i = 0; i < 50; i++) v1 = (await send("c1", `a${i + 2}`, `one-${i}`, v1)).vector;
    await send("c2", "b2", null, v2);
    expect(await server.hub.compact(room, { keepEntries: 10 })).toBeGreaterThan(40);
    const horizon = await storage.horizon(room);
    expect(horizon).toBeGreaterThan(2);
    const bob = await rawClient(server.url);
    cleanups.push(() => bob.close());
    bob.send(envelope("hello", { protocol: 1, roomId: room, token: "", cursor: 2 }, "bob"));
    const welcome = await bob.next((m) => m.type === "welcome", "welcome");
    // Not entries from seq 2 (some are gone): the latest versions, the deletion among them.
    expect(welcome.payload.entries).toBeUndefined();
    expect(welcome.payload.snapshotTotal).toBe(2);
    const c2 = welcome.payload.snapshot.find((v: { entityId: string }) => v.entityId === "c2");
    expect(c2.entity).toBeNull();
    const c1 = welcome.payload.snapshot.find((v: { entityId: string }) => v.entityId === "c1");
    expect(c1.entity.data.body).toBe("one-49");
    // A client at or above the horizon still gets entries.
    const carol = await rawClient(server.url);
    cleanups.push(() => carol.close());
    carol.send(
      envelope("hello", { protocol: 1, roomId: room, token: "", cursor: horizon }, "carol"),
    );
    const hers = await carol.next((m) => m.type === "welcome", "welcome");
    expect(hers.payload.snapshot).toBeUndefined();
    expect(hers.payload.entries.length).toBe(10);
  });
});

describe("compaction while another server commits (PostgreSQL)", () => {
  it("loses no entry, version or resend: compaction and commits take the room's lock in turn", async () => {
    const tablePrefix = `${uniqueName("race").toLowerCase()}_`;
    const writer = await postgresStorage({ url: POSTGRES_URL, tablePrefix });
    const compactor = await postgresStorage({ url: POSTGRES_URL, tablePrefix });
    try {
      const room = uniqueName("room");
      const vectors = new Map<string, Record<string, number>>();
      const written: IncomingChange[] = [];
      let writing = true;
      const compactions = (async () => {
        let runs = 0;
        // Compacts to the head as it stands, over and over, while the writer commits.
        while (writing || runs === 0) {
          const head = await compactor.head(room);
          if (head > 0) await compactor.compact(room, { horizon: head, tombstonesBefore: 0 });
          runs++;
        }
        return runs;
      })();
      for (let batch = 0; batch < 60; batch++) {
        const changes: IncomingChange[] = [];
        for (let i = 0; i < 20; i++) {
          const n = batch * 20 + i;
          const id = `c${n % 30}`;
          const vector = vectors.get(id) ?? {};
          changes.push(change(`m${n}`, id, n % 7 === 0 ? null : `v${n}`, vector));
          vectors.set(id, { ann: (vector.ann ?? 0) + 1 });
        }
        written.push(...changes);
        const outcomes = await writer.commit(room, changes, decide);
        expect(outcomes.every((o) => o.entry && !o.duplicate && !o.rejected)).toBe(true);
      }
      writing = false;
      expect(await compactions).toBeGreaterThan(1);
      await compactor.compact(room, { horizon: await writer.head(room), tombstonesBefore: 0 });
      // Every entity's version is its last write, and its entry is still in the log.
      const { versions } = await writer.snapshot(room);
      const log = new Map((await writer.entriesAfter(room, 0, 10_000)).map((e) => [e.seq, e]));
      expect(versions).toHaveLength(30);
      for (const version of versions) {
        const last = written.findLast((c) => c.entityId === version.entityId) as IncomingChange;
        expect(log.get(version.seq)?.messageId).toBe(last.messageId);
        expect(version.entity === null).toBe(last.operation === "delete");
      }
      // Every write, compacted or not, is still recognized when resent.
      const resent = await writer.commit(room, written, decide);
      expect(resent.filter((o) => !o.duplicate)).toEqual([]);
      expect(await writer.head(room)).toBe(written.length);
    } finally {
      await writer.close();
      await compactor.close();
    }
  }, 120_000);
});
