// One behavioural suite for the client's sync-state persistence (SyncPersistence: the outbox,
// the cursor, the server's versions and limits, written as deltas), run over each
// implementation: memoryPersistence() and a FrontendDatabase's `db.syncState(roomId)`, in
// memory:// (alone, and linked to a store by persist()) and in a data directory (linked, and
// closed and opened again between runs to prove what it committed is durable).
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import { FrontendDatabase, type Persistence, persist } from "../../src/database/index.js";
import {
  type ConfirmedVersion,
  type LoadedSyncState,
  type LoadedVersion,
  memoryPersistence,
  type OutboxEntry,
  type SyncPersistence,
} from "../../src/sync/index.js";
import { tempDirs } from "../database/helpers.js";
import { type Comment, comment, Entity } from "../fixtures/schema.js";
import { uniqueName } from "../support/unique-name.js";

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

type Store = ReturnType<typeof KalphiteStore<typeof Entity>>;

/** A persisted store: the database's entity rows are its entities. */
interface Linked {
  store: Store;
  persisted: Persistence;
  db: FrontendDatabase<Entity>;
}

/** One implementation, as an app would hold it across runs. */
interface Subject {
  /** The persistence of `room` in this run (the same one until `restart()`). */
  of(room: string): SyncPersistence;
  /**
   * Ends this run and starts the next on what was committed: in memory the same objects (they
   * survive an engine being recreated); a data directory closed and opened again.
   */
  restart(): Promise<void>;
  /** The store and database of a kind linked by persist(); undefined for the others. */
  linked(): Linked | undefined;
  close(): Promise<void>;
}

function inMemory(): Subject {
  const rooms = new Map<string, SyncPersistence>();
  return {
    of(room) {
      let persistence = rooms.get(room);
      if (!persistence) rooms.set(room, (persistence = memoryPersistence()));
      return persistence;
    },
    restart: async () => {},
    linked: () => undefined,
    close: async () => {},
  };
}

/** A database whose sync state is used alone: no store writes its entity rows. */
async function databaseAlone(dbName: string): Promise<Subject> {
  const db = new FrontendDatabase<Entity>({ dbName, schema: Entity });
  await db.init();
  return {
    of: (room) => db.syncState(room),
    restart: async () => {},
    linked: () => undefined,
    close: () => db.close(),
  };
}

/** A database linked to a store by persist(); `durable` ones are closed and reopened by restart. */
async function databaseLinked(dbName: string, durable: boolean): Promise<Subject> {
  const open = async (): Promise<Linked> => {
    const db = new FrontendDatabase<Entity>({ dbName, schema: Entity });
    const store = KalphiteStore(Entity);
    const persisted = await persist(store, db);
    return { db, store, persisted };
  };
  let linked = await open();
  const close = async () => {
    await linked.persisted.stop();
    await linked.db.close();
  };
  return {
    of: (room) => linked.db.syncState(room),
    async restart() {
      if (!durable) return;
      await close();
      linked = await open();
    },
    linked: () => linked,
    close,
  };
}

/** Each kind: its name, how to make it, and whether its entity rows follow a store. */
const kinds: [string, () => Promise<Subject>, { linked: boolean }][] = [
  ["memoryPersistence()", async () => inMemory(), { linked: false }],
  ["database in memory://, alone", () => databaseAlone("memory://"), { linked: false }],
  [
    "database in memory://, with a persisted store",
    () => databaseLinked("memory://", false),
    { linked: true },
  ],
  [
    "database in a data directory, with a persisted store, reopened",
    () => databaseLinked(dirs.make(), true),
    { linked: true },
  ],
];

function entry(
  messageId: string,
  entityId: string,
  operation: "upsert" | "delete" = "upsert",
): OutboxEntry {
  return {
    messageId,
    timestamp: 5,
    operation,
    entityType: "comment",
    entityId,
    ...(operation === "upsert" ? { entity: comment(entityId, { body: messageId }) } : {}),
    vector: { ann: 1, bob: 2 },
    strategy: "last-write-wins",
    changedFields: ["body"],
  };
}

function version(
  entityId: string,
  seq: number,
  entity: Comment | null = comment(entityId, { body: `seq ${seq}` }),
): ConfirmedVersion {
  return { entityType: "comment", entityId, entity, vector: { ann: seq }, seq };
}

/** Versions in a stable order (a persistence need not keep any). */
const byId = (versions: readonly LoadedVersion[]) =>
  [...versions].sort((a, b) => (a.entityId < b.entityId ? -1 : a.entityId > b.entityId ? 1 : 0));

describe.each(kinds)("SyncPersistence contract: %s", (_name, make, { linked }) => {
  let subject: Subject;
  beforeAll(async () => {
    subject = await make();
  }, 120_000);
  afterAll(() => subject?.close());

  /** The state of `room` as the next run loads it. */
  async function reload(room: string): Promise<LoadedSyncState | undefined> {
    await subject.restart();
    return subject.of(room).load();
  }

  it("loads nothing for a room nothing was recorded for", async () => {
    const room = uniqueName("room");
    expect(await subject.of(room).load()).toBeUndefined();
    await subject.of(room).flush(); // nothing to flush is fine
    expect(await reload(room)).toBeUndefined();
  });

  it("round-trips the cursor, confirmed versions (with and without an entity), the outbox in order, and the limits", async () => {
    const room = uniqueName("room");
    const persistence = subject.of(room);
    const kept = version(uniqueName("kept"), 3);
    const deleted = version(uniqueName("deleted"), 4, null);
    const outbox = [
      entry("m-3", uniqueName("c")),
      entry("m-1", uniqueName("c"), "delete"),
      entry("m-2", uniqueName("c")),
    ];
    persistence.record({ kind: "version", version: kept, shown: false });
    persistence.record({ kind: "version", version: deleted, shown: false });
    for (const e of outbox) persistence.record({ kind: "outbox-add", entry: e });
    persistence.record({ kind: "cursor", cursor: 4 });
    persistence.record({ kind: "limits", limits: { maxMessageBytes: 65_536, maxDepth: 12 } });
    await persistence.flush();

    const loaded = await reload(room);
    expect(loaded?.cursor).toBe(4);
    expect(loaded?.limits).toEqual({ maxMessageBytes: 65_536, maxDepth: 12 });
    // Oldest first, as recorded (not sorted by message id).
    expect(loaded?.outbox).toEqual(outbox);
    expect(byId(loaded?.versions ?? [])).toEqual(byId([kept, deleted]));
  });

  it("a version recorded as shown comes back with its entity, or leaves it to the store that holds it", async () => {
    const room = uniqueName("room");
    const id = uniqueName("shown");
    const entity = comment(id, { body: "from the server" });
    // As the engine does: the remote change is in the store, then its version is recorded.
    const linked = subject.linked();
    linked?.store.apply(
      [{ operation: "upsert", entityType: "comment", entityId: id, entity }],
      "remote",
    );
    subject
      .of(room)
      .record(
        { kind: "version", version: version(id, 1, entity), shown: true },
        { entityType: "comment", entityId: id },
      );
    await subject.of(room).flush();

    const [loaded] = (await reload(room))?.versions ?? [];
    expect(loaded).toMatchObject({ entityType: "comment", entityId: id, seq: 1 });
    expect(loaded?.vector).toEqual({ ann: 1 });
    // `undefined` means "the store holds it": then the (next run's) store must hold exactly it.
    const shown =
      loaded?.entity === undefined ? subject.linked()?.store.comment.findById(id) : loaded.entity;
    expect(shown).toEqual(entity);
  });

  it("removes an outbox entry, whether it was committed earlier or in the same flush", async () => {
    const room = uniqueName("room");
    const persistence = subject.of(room);
    for (const id of ["m1", "m2", "m3"])
      persistence.record({ kind: "outbox-add", entry: entry(id, uniqueName("c")) });
    await persistence.flush();
    persistence.record({ kind: "outbox-remove", messageId: "m2" });
    persistence.record({ kind: "outbox-add", entry: entry("m4", uniqueName("c")) });
    persistence.record({ kind: "outbox-remove", messageId: "m4" });
    persistence.record({ kind: "outbox-remove", messageId: "never-added" });
    await persistence.flush();

    expect((await reload(room))?.outbox.map((e) => e.messageId)).toEqual(["m1", "m3"]);
  });

  it("a later delta for the same key wins over an earlier one, within a flush and across flushes", async () => {
    const room = uniqueName("room");
    const [a, b, c] = [uniqueName("a"), uniqueName("b"), uniqueName("c")];
    let persistence = subject.of(room);
    persistence.record({ kind: "version", version: version(a, 1), shown: false });
    persistence.record({ kind: "version", version: version(a, 2), shown: false });
    persistence.record({ kind: "version", version: version(b, 1), shown: false });
    persistence.record({ kind: "cursor", cursor: 1 });
    persistence.record({ kind: "cursor", cursor: 2 });
    persistence.record({ kind: "limits", limits: { maxMessageBytes: 1_000, maxDepth: 4 } });
    await persistence.flush();
    let loaded = await reload(room);
    expect(byId(loaded?.versions ?? [])).toEqual(byId([version(a, 2), version(b, 1)]));
    expect(loaded?.cursor).toBe(2);

    persistence = subject.of(room);
    persistence.record({ kind: "version", version: version(b, 3, null), shown: false });
    persistence.record({ kind: "forget-version", entityType: "comment", entityId: a });
    persistence.record({ kind: "cursor", cursor: 3 });
    await persistence.flush();
    // Limits alone leave the cursor as it was, and the other way round.
    persistence.record({ kind: "limits", limits: { maxMessageBytes: 2_000, maxDepth: 8 } });
    await persistence.flush();
    loaded = await reload(room);
    expect(loaded?.versions).toEqual([version(b, 3, null)]);
    expect(loaded?.cursor).toBe(3);
    expect(loaded?.limits).toEqual({ maxMessageBytes: 2_000, maxDepth: 8 });

    // A reset drops every version recorded before it, and only those.
    persistence = subject.of(room);
    persistence.record({ kind: "version", version: version(a, 4), shown: false });
    persistence.record({ kind: "reset-versions" });
    persistence.record({ kind: "version", version: version(c, 5), shown: false });
    await persistence.flush();
    loaded = await reload(room);
    expect(loaded?.versions).toEqual([version(c, 5)]);
    expect(loaded?.cursor).toBe(3);
  });

  it("keeps rooms apart", async () => {
    const [one, two] = [uniqueName("one"), uniqueName("two")];
    const id = uniqueName("c");
    subject.of(one).record({ kind: "version", version: version(id, 1), shown: false });
    subject.of(one).record({ kind: "outbox-add", entry: entry("same-id", id) });
    subject.of(one).record({ kind: "cursor", cursor: 1 });
    subject.of(two).record({ kind: "version", version: version(id, 7), shown: false });
    subject.of(two).record({ kind: "outbox-add", entry: entry("same-id", id, "delete") });
    subject.of(two).record({ kind: "cursor", cursor: 7 });
    await Promise.all([subject.of(one).flush(), subject.of(two).flush()]);
    // What one room drops or resets stays in the other.
    subject.of(one).record({ kind: "reset-versions" });
    subject.of(one).record({ kind: "outbox-remove", messageId: "same-id" });
    await subject.of(one).flush();

    await subject.restart();
    const [first, second] = await Promise.all([subject.of(one).load(), subject.of(two).load()]);
    expect(first).toMatchObject({ cursor: 1, versions: [], outbox: [] });
    expect(second).toMatchObject({
      cursor: 7,
      versions: [version(id, 7)],
      outbox: [entry("same-id", id, "delete")],
    });
    expect(await subject.of(uniqueName("other")).load()).toBeUndefined();
  });

  it("a flush commits everything recorded before it, also what was recorded while an earlier flush ran", async () => {
    const room = uniqueName("room");
    const persistence = subject.of(room);
    persistence.record({ kind: "outbox-add", entry: entry("m1", uniqueName("c")) });
    const first = persistence.flush();
    persistence.record({ kind: "outbox-add", entry: entry("m2", uniqueName("c")) });
    persistence.record({ kind: "cursor", cursor: 9 });
    const second = persistence.flush();
    persistence.record({ kind: "outbox-add", entry: entry("m3", uniqueName("c")) });
    await first;
    await second;
    // Recorded after both flushes were called, and never flushed: committed by the next one.
    await persistence.flush();

    const loaded = await reload(room);
    expect(loaded?.outbox.map((e) => e.messageId)).toEqual(["m1", "m2", "m3"]);
    expect(loaded?.cursor).toBe(9);
  });

  // Only for the kinds whose entity rows follow a store (registered only there, not skipped).
  if (linked) {
    it("a delta recorded with an entity is committed with that entity's row, never before it", async () => {
      const room = uniqueName("room");
      const { store, persisted, db } = subject.linked()!;
      const persistence = subject.of(room);
      const id = uniqueName("c");
      const written = comment(id, { body: "written locally" });

      // The store's writes are held back: the delta must wait for its row.
      persisted.engine.pauseFlush();
      // A failure below must not leave the store's writes held back for the next test.
      onTestFinished(() => subject.linked()?.persisted.engine.resumeFlush());
      store.comment.upsert(id, written);
      persistence.record(
        { kind: "outbox-add", entry: { ...entry("local-1", id), entity: written } },
        { entityType: "comment", entityId: id },
      );
      persistence.record({ kind: "cursor", cursor: 5 }); // recorded after it: waits too
      const flushed = persistence.flush();
      expect(await db.getById("comment", id)).toBeUndefined();
      expect(await persistence.load()).toBeUndefined();

      persisted.engine.resumeFlush();
      // persistence.flush() alone is enough: it has the store's change written first.
      await flushed;
      expect(await db.getById("comment", id)).toEqual(written);
      expect(await persistence.load()).toMatchObject({
        cursor: 5,
        outbox: [{ messageId: "local-1", entityId: id, entity: written }],
      });

      // The next run has both: the entity in its store, its outbox entry to send.
      await subject.restart();
      const next = subject.linked()!;
      expect(next.store.comment.findById(id)).toEqual(written);
      expect(await next.db.getById("comment", id)).toEqual(written);
      expect((await subject.of(room).load())?.outbox.map((e) => e.messageId)).toEqual(["local-1"]);

      // A delete and its outbox entry: the row goes as the entry comes.
      const { store: later, persisted: laterPersisted, db: laterDb } = subject.linked()!;
      laterPersisted.engine.pauseFlush();
      later.comment.delete(id);
      subject
        .of(room)
        .record(
          { kind: "outbox-add", entry: entry("local-2", id, "delete") },
          { entityType: "comment", entityId: id },
        );
      const deleting = subject.of(room).flush();
      expect(await laterDb.getById("comment", id)).toEqual(written);
      expect((await subject.of(room).load())?.outbox).toHaveLength(1);
      laterPersisted.engine.resumeFlush();
      await deleting;
      expect(await laterDb.getById("comment", id)).toBeUndefined();
      expect((await reload(room))?.outbox.map((e) => e.messageId)).toEqual(["local-1", "local-2"]);
    });

    it("a delta recorded with an entity whose row is already written goes on its own", async () => {
      const room = uniqueName("room");
      const { store, persisted } = subject.linked()!;
      const id = uniqueName("c");
      store.comment.upsert(id, comment(id));
      await persisted.flush();
      subject
        .of(room)
        .record(
          { kind: "outbox-add", entry: entry("late", id) },
          { entityType: "comment", entityId: id },
        );
      await subject.of(room).flush();
      expect((await reload(room))?.outbox.map((e) => e.messageId)).toEqual(["late"]);
    });
  }
});
