// The tabs of one database over a real BroadcastChannel (Node has one): a leader serving its
// store, followers mirroring it and writing through it, and a handover between two leaders.
import { afterEach, describe, expect, it, vi } from "vitest";
import { KalphiteStore } from "../../../src/index.js";
import { mirrorTabs, serveTabs, type TabLeader, type TabMirror } from "../../../src/sync/index.js";
import { Entity, note } from "./notes.js";

/** A promise resolved by hand: the leader's durable point, driven by the test. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

let names = 0;
const open: { close(): void }[] = [];
afterEach(() => {
  for (const tab of open.splice(0)) tab.close();
});

function leaderOf(name: string, store = KalphiteStore(Entity), durable = () => Promise.resolve()) {
  const leader: TabLeader = serveTabs({ store, name, durable });
  open.push(leader);
  return { store, leader };
}

function followerOf(name: string, applyEveryMs?: number) {
  const store = KalphiteStore(Entity);
  const mirror: TabMirror = mirrorTabs({
    store,
    name,
    ...(applyEveryMs === undefined ? {} : { applyEveryMs }),
  });
  open.push(mirror);
  return { store, mirror };
}

function copyOf(store: KalphiteStore<Entity>) {
  const copy = KalphiteStore(Entity);
  copy.note.upsertMany(store.note.slice());
  return copy;
}

const texts = (store: KalphiteStore<Entity>) => store.note.map((n) => n.data.text).sort();

describe("tabs of one database", () => {
  it("a follower shows the leader's store, then each of its changes", async () => {
    const name = `tabs-${++names}`;
    const { store: leaderStore } = leaderOf(name);
    leaderStore.note.upsert("a", note("a", "before"));
    const { store, mirror } = followerOf(name);
    await mirror.ready;
    expect(texts(store)).toEqual(["before"]);

    leaderStore.note.upsert("b", note("b", "after"));
    leaderStore.note.delete("a");
    await vi.waitFor(() => expect(texts(store)).toEqual(["after"]));
  });

  it("a follower's write becomes the leader's local write and is confirmed once durable", async () => {
    const name = `tabs-${++names}`;
    let durable = deferred();
    const leaderStore = KalphiteStore(Entity);
    const origins: string[] = [];
    leaderStore.onChange((change) => origins.push(change.origin));
    leaderOf(name, leaderStore, () => durable.promise);
    const { store, mirror } = followerOf(name);
    await mirror.ready;

    store.note.upsert("c", note("c", "from the follower"));
    await vi.waitFor(() =>
      expect(leaderStore.note.findById("c")?.data.text).toBe("from the follower"),
    );
    expect(origins).toEqual(["local"]);
    expect(mirror.pending.value).toBe(1);

    durable.resolve();
    durable = deferred();
    await vi.waitFor(() => expect(mirror.pending.value).toBe(0));
  });

  it("a write the leader never made durable is resent to the next leader, and one it did is not made twice", async () => {
    const name = `tabs-${++names}`;
    const never = new Promise<void>(() => {});
    const first = leaderOf(name, KalphiteStore(Entity), () => never);
    const { store, mirror } = followerOf(name);
    await mirror.ready;
    store.note.upsert("d", note("d", "lost with the first leader"));
    await vi.waitFor(() => expect(first.store.note.findById("d")).toBeDefined());
    expect(mirror.pending.value).toBe(1);

    // The first leader goes away before its database confirmed d; the next one starts from its
    // own database (here: empty), gets d again from the follower, and confirms it.
    first.leader.close();
    const next = leaderOf(name);
    await vi.waitFor(() => expect(mirror.pending.value).toBe(0));
    expect(next.store.note.findById("d")?.data.text).toBe("lost with the first leader");

    // A leader whose database already has the write (the old one made it durable, but went
    // away before its confirmation reached the follower) confirms it without writing it again.
    next.leader.close();
    // Each leader starts from the database the last one wrote: a copy of its store here.
    const holder = leaderOf(name, copyOf(next.store), () => never);
    store.note.upsert("e", note("e", "durable before the handover"));
    await vi.waitFor(() => expect(holder.store.note.findById("e")).toBeDefined());
    expect(mirror.pending.value).toBe(1);
    holder.leader.close();
    const recovered = copyOf(holder.store);
    const writes: string[] = [];
    recovered.onChange((change) => writes.push(change.entityId));
    leaderOf(name, recovered);
    await vi.waitFor(() => expect(mirror.pending.value).toBe(0));
    expect(writes).toEqual([]);
    expect(texts(store)).toEqual(["durable before the handover", "lost with the first leader"]);
  });

  it("while its own write is unconfirmed a follower shows it, then the leader's latest version", async () => {
    const name = `tabs-${++names}`;
    const durable = deferred();
    const { store: leaderStore } = leaderOf(name, KalphiteStore(Entity), () => durable.promise);
    const { store, mirror } = followerOf(name);
    await mirror.ready;
    store.note.upsert("g", note("g", "mine", 1));
    await vi.waitFor(() => expect(leaderStore.note.findById("g")).toBeDefined());
    // The server's newer version reaches the leader before the follower's write is durable.
    leaderStore.note.upsert("g", note("g", "the server's", 2), { origin: "remote" });
    await new Promise((done) => setImmediate(done));
    expect(store.note.findById("g")?.data.text).toBe("mine");
    durable.resolve();
    await vi.waitFor(() => expect(store.note.findById("g")?.data.text).toBe("the server's"));
  });

  it("changes arriving in separate messages within the window are applied as one batch, in order", async () => {
    const name = `tabs-${++names}`;
    const { store: leaderStore, leader } = leaderOf(name);
    // A window longer than the test: only the next other message applies what waits.
    const { store, mirror } = followerOf(name, 60_000);
    await mirror.ready;
    const notifications: number[] = [];
    store.subscribe((changes) => notifications.push(changes.length));
    for (const id of ["a", "b", "c"]) {
      leaderStore.note.upsert(id, note(id, `note ${id}`));
      await new Promise((done) => setImmediate(done)); // its own message
    }
    leaderStore.note.delete("a");
    await new Promise((done) => setImmediate(done));
    leader.publish({ connection: "connected" });
    await vi.waitFor(() => expect(mirror.state.value).toEqual({ connection: "connected" }));
    expect(texts(store)).toEqual(["note b", "note c"]);
    // One notification; a, written and deleted within it, never showed.
    expect(notifications).toEqual([2]);
  });

  it("the leader's state and events reach every follower, also one that joins later", async () => {
    const name = `tabs-${++names}`;
    const { leader } = leaderOf(name);
    leader.publish({ connection: "connected" });
    const { mirror } = followerOf(name);
    await mirror.ready;
    expect(mirror.state.value).toEqual({ connection: "connected" });
    const events: unknown[] = [];
    mirror.onEvent((event) => events.push(event));
    leader.notify({ conflict: "g" });
    leader.publish({ connection: "disconnected" });
    await vi.waitFor(() => expect(mirror.state.value).toEqual({ connection: "disconnected" }));
    expect(events).toEqual([{ conflict: "g" }]);
  });
});
