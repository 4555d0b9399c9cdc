// How a SyncHub broadcasts commits: its own without reading the log back, other processes' with
// one read each, on one storage or on several hubs sharing one (memory, PostgreSQL).
import { afterEach, describe, expect, it } from "vitest";
import {
  entityValidator,
  insecureDevAuthenticator,
  memoryStorage,
  pgliteStorage,
  postgresStorage,
  SyncHub,
  type SyncStorage,
} from "../../src/server/index.js";
import { comment } from "../fixtures/schema.js";
import { envelope, POSTGRES_URL, uniqueName, withTimeout } from "./helpers.js";

/** A storage that counts its log reads (`entriesAfter`) and remembers the heads it announced. */
interface Counted extends SyncStorage {
  reads: number;
  /** Resolves once the storage announced a commit of `room` at `head` or later. */
  heard(room: string, head: number): Promise<void>;
}

function counted(inner: SyncStorage): Counted {
  const heads = new Map<string, number>();
  const waiters: { room: string; head: number; resolve: () => void }[] = [];
  inner.onCommit((room, head) => {
    heads.set(room, Math.max(heads.get(room) ?? 0, head));
    for (const w of waiters.filter((w) => w.room === room && w.head <= head)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const storage: Counted = {
    reads: 0,
    commit: (room, changes, decide) => inner.commit(room, changes, decide),
    entriesAfter(room, after, limit) {
      storage.reads++;
      return inner.entriesAfter(room, after, limit);
    },
    snapshot: (room) => inner.snapshot(room),
    snapshotPage: (room, options) => inner.snapshotPage(room, options),
    entityCount: (room, atMost) => inner.entityCount(room, atMost),
    horizon: (room) => inner.horizon(room),
    compact: (room, options) => inner.compact(room, options),
    head: (room) => inner.head(room),
    // Listeners are called in one synchronous loop: by the time a `heard` waiter resumes, the
    // hub has heard the same announcement and queued whatever broadcast it starts.
    onCommit: (listener) => inner.onCommit(listener),
    close: () => inner.close(),
    heard(room, head) {
      if ((heads.get(room) ?? 0) >= head) return Promise.resolve();
      return withTimeout(
        new Promise<void>((resolve) => waiters.push({ room, head, resolve })),
        10_000,
        `the storage to announce ${room} at ${head}`,
      );
    },
  };
  return storage;
}

/** A client on an in-process hub connection: what it received, and a way to wait for it. */
function join(hub: SyncHub, room: string, userId: string) {
  const received: Record<string, any>[] = [];
  const seqs = new Set<number>();
  const checks = new Set<() => void>();
  const connection = hub.open({
    send(text) {
      const message = JSON.parse(text) as Record<string, any>;
      received.push(message);
      const p = message.payload;
      if (message.type === "change") seqs.add(p.seq);
      if (message.type === "ack" || message.type === "conflict") seqs.add(p.entry.seq);
      if (message.type === "catch-up" || message.type === "welcome")
        for (const entry of p.entries ?? []) seqs.add(entry.seq);
      for (const check of [...checks]) check();
    },
    close() {},
  });
  const until = (check: () => boolean, what: string) =>
    withTimeout(
      new Promise<void>((resolve) => {
        const wake = () => {
          if (!check()) return;
          checks.delete(wake);
          resolve();
        };
        checks.add(wake);
        wake();
      }),
      10_000,
      `${userId}: ${what}`,
    );
  connection.receive(
    JSON.stringify(envelope("hello", { protocol: 1, roomId: room, token: "", cursor: 0 }, userId)),
  );
  let n = 0;
  return {
    ready: until(() => received.some((m) => m.type === "welcome"), "welcome"),
    received,
    seqs,
    /** Sends an upsert of comment `id`; resolves with the seq of its ack. */
    async write(id: string, body: string): Promise<number> {
      const messageId = `${userId}-${n++}`;
      const entity = comment(id, { body });
      connection.receive(
        JSON.stringify(
          envelope(
            "change",
            { operation: "upsert", entityType: "comment", entityId: id, entity, vector: {} },
            userId,
            messageId,
          ),
        ),
      );
      await until(
        () => received.some((m) => m.type === "ack" && m.payload.ackedId === messageId),
        `the ack of ${messageId}`,
      );
      const ack = received.find((m) => m.type === "ack" && m.payload.ackedId === messageId);
      return ack?.payload.entry.seq as number;
    },
    /** Resolves once every seq from 1 to `head` reached this client. */
    has: (head: number) =>
      until(
        () => Array.from({ length: head }, (_, i) => i + 1).every((s) => seqs.has(s)),
        `seqs 1..${head}`,
      ),
  };
}

const hubs: SyncHub[] = [];
const storages: SyncStorage[] = [];
const errors: unknown[] = [];
afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.close();
  for (const storage of storages.splice(0)) await storage.close();
  expect(errors.splice(0)).toEqual([]);
});

function hubOn(storage: Counted): SyncHub {
  const hub = new SyncHub({
    storage,
    authenticate: insecureDevAuthenticator,
    validate: entityValidator(),
    onError: (error) => errors.push(error),
  });
  hubs.push(hub);
  return hub;
}

const prefix = () => `${uniqueName("b").toLowerCase()}_`;
const single: [string, () => Promise<SyncStorage>][] = [
  ["memory", async () => memoryStorage()],
  ["pglite", () => pgliteStorage({ tablePrefix: prefix() })],
  ["postgres", () => postgresStorage({ url: POSTGRES_URL, tablePrefix: prefix() })],
];

describe.each(single)("one hub on %s", { timeout: 120_000 }, (_name, create) => {
  it("broadcasts its own commits without reading the log", async () => {
    const storage = counted(await create());
    storages.push(storage);
    const hub = hubOn(storage);
    const room = uniqueName("room");
    const ann = join(hub, room, "ann");
    const bob = join(hub, room, "bob");
    await Promise.all([ann.ready, bob.ready]);
    expect(storage.reads).toBe(0); // a first join gets a snapshot
    let head = 0;
    for (let i = 0; i < 5; i++) {
      head = await ann.write(`c${i}`, `edit ${i}`);
      await bob.has(head);
    }
    expect(head).toBe(5);
    // With NOTIFY, the announcements of these commits arrive after them: let them all land,
    // then close, which waits for every broadcast they could have started.
    await storage.heard(room, head);
    await hub.close();
    expect(storage.reads).toBe(0);
  });
});

/** Each variant: its storages, and the log reads a hub makes per commit of the other hub. */
const shared: [string, () => Promise<[SyncStorage, SyncStorage]>, number][] = [
  [
    "one memory storage",
    async () => {
      const storage = memoryStorage();
      return [storage, storage];
    },
    1,
  ],
  [
    // The other process's entries come with its NOTIFY: nothing to read.
    "one PostgreSQL",
    async () => {
      const tablePrefix = prefix();
      const a = await postgresStorage({ url: POSTGRES_URL, tablePrefix });
      return [a, await postgresStorage({ url: POSTGRES_URL, tablePrefix })];
    },
    0,
  ],
];

describe.each(shared)("two hubs on %s", { timeout: 120_000 }, (_name, create, readsPerCommit) => {
  async function setup() {
    const [innerA, innerB] = await create();
    storages.push(innerA);
    if (innerB !== innerA) storages.push(innerB);
    const a = counted(innerA);
    const b = counted(innerB);
    const room = uniqueName("room");
    const hubA = hubOn(a);
    const hubB = hubOn(b);
    const ann = join(hubA, room, "ann"); // writes on A
    const carl = join(hubA, room, "carl"); // watches on A
    const bob = join(hubB, room, "bob"); // on B
    await Promise.all([ann.ready, carl.ready, bob.ready]);
    return { a, b, room, hubA, hubB, ann, carl, bob };
  }

  it("each hub reads the log at most once per commit of the other, never for its own", async () => {
    const { a, b, room, hubA, hubB, ann, carl, bob } = await setup();
    let head = 0;
    for (let i = 0; i < 3; i++) {
      head = await ann.write(`a${i}`, "ann");
      await Promise.all([carl.has(head), bob.has(head)]);
    }
    for (let i = 0; i < 2; i++) {
      head = await bob.write(`b${i}`, "bob");
      await Promise.all([ann.has(head), carl.has(head)]);
    }
    await Promise.all([a.heard(room, head), b.heard(room, head)]);
    await Promise.all([hubA.close(), hubB.close()]);
    expect(a.reads).toBe(2 * readsPerCommit); // bob's two commits
    expect(b.reads).toBe(3 * readsPerCommit); // ann's three commits
  });

  it("concurrent writers on both hubs: every client gets every entry", async () => {
    const { ann, carl, bob } = await setup();
    const writes = await Promise.all([
      ...[0, 1, 2, 3].map((i) => ann.write(`a${i}`, "x")),
      ...[0, 1, 2, 3].map((i) => bob.write(`b${i}`, "y")),
    ]);
    expect([...writes].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    await Promise.all([ann.has(8), carl.has(8), bob.has(8)]);
  });
});
