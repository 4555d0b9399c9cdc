// A burst of the leader's changes (another client's many writes) reaches a follower in parts of
// `changesPerTask`, a task each, so that the page renders between them: every change applied
// once and in order, and what the leader sent after the burst handled only once it is applied.
import { type } from "arktype";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KalphiteStore } from "../../../src/index.js";
import { mirrorTabs, serveTabs, type TabMirror } from "../../../src/sync/index.js";
import { Entity, note } from "./notes.js";

let names = 0;
const open: { close(): void }[] = [];
afterEach(() => {
  for (const tab of open.splice(0)) tab.close();
});

async function tabs(options: { changesPerTask: number; applyEveryMs?: number }) {
  const name = `burst-${++names}`;
  const leaderStore = KalphiteStore(Entity);
  const leader = serveTabs({ store: leaderStore, name, durable: () => Promise.resolve() });
  open.push(leader);
  const store = KalphiteStore(Entity);
  const mirror: TabMirror = mirrorTabs({ store, name, ...options });
  open.push(mirror);
  await mirror.ready;
  return { leaderStore, leader, store, mirror };
}

const ids = (count: number) => Array.from({ length: count }, (_, i) => `n${i}`);
/** One message from the leader: its store's changes of one task. */
const writeAll = (store: KalphiteStore<Entity>, text: string, count = 25) =>
  store.note.upsertMany(ids(count).map((id) => note(id, `${id} ${text}`, text === "v1" ? 1 : 2)));
const nextTask = () => new Promise((done) => setTimeout(done, 0));

describe("a burst of the leader's changes", () => {
  it("is applied in parts of changesPerTask, each in a task of its own", async () => {
    const { leaderStore, store } = await tabs({ changesPerTask: 10, applyEveryMs: 0 });
    // A microtask queued by a part runs before the next part only if that part is a new task
    // (as React's render of the part does).
    const log: (number | string)[] = [];
    store.subscribe((changes) => {
      log.push(changes.length);
      queueMicrotask(() => log.push("rendered"));
    });
    writeAll(leaderStore, "v1");
    await vi.waitFor(() => expect(store.note.length).toBe(25));
    await nextTask();
    expect(log).toEqual([10, "rendered", 10, "rendered", 5, "rendered"]);
  });

  it("is applied a change per task with a changesPerTask below 1", async () => {
    const { leaderStore, store } = await tabs({ changesPerTask: 0, applyEveryMs: 0 });
    const notifications: number[] = [];
    store.subscribe((changes) => notifications.push(changes.length));
    writeAll(leaderStore, "v1", 3);
    await vi.waitFor(() => expect(store.note.length).toBe(3));
    expect(notifications).toEqual([1, 1, 1]);
  });

  it("applies every change once and in the leader's order, across messages", async () => {
    // Parts smaller than a message: no part holds two versions of one entity, so each shows.
    const { leaderStore, store } = await tabs({ changesPerTask: 10, applyEveryMs: 0 });
    const seen = new Map<string, string[]>();
    store.onChange((change) => {
      const texts = seen.get(change.entityId) ?? [];
      texts.push(change.operation === "upsert" ? (change.entity?.data.text ?? "") : "deleted");
      seen.set(change.entityId, texts);
    });
    writeAll(leaderStore, "v1");
    await nextTask(); // the next task: its changes are the leader's next message
    writeAll(leaderStore, "v2");
    await nextTask();
    leaderStore.note.delete("n3");
    await vi.waitFor(() => expect(seen.get("n3")?.at(-1)).toBe("deleted"));
    for (const id of ids(25)) {
      const versions = [`${id} v1`, `${id} v2`];
      expect(seen.get(id)).toEqual(id === "n3" ? [...versions, "deleted"] : versions);
    }
    expect(store.note.length).toBe(24);
  });

  it("is shown whole before a message the leader sent after it is handled", async () => {
    const { leaderStore, leader, store, mirror } = await tabs({ changesPerTask: 10 });
    const shownWithState: number[] = [];
    mirror.state.subscribe((state) => {
      if (state === "after the burst") shownWithState.push(store.note.length);
    });
    writeAll(leaderStore, "v1");
    await nextTask();
    leader.publish("after the burst");
    await vi.waitFor(() => expect(mirror.state.value).toBe("after the burst"));
    expect(shownWithState).toEqual([25]);
  });

  it("a follower's own write is confirmed only after the leader's burst before the confirmation", async () => {
    const { leaderStore, store, mirror } = await tabs({ changesPerTask: 10, applyEveryMs: 0 });
    const shownWhenConfirmed: number[] = [];
    mirror.pending.subscribe((pending) => {
      if (pending === 0 && store.note.findById("mine")) shownWhenConfirmed.push(store.note.length);
    });
    // The leader makes a burst of its own, then gets (and confirms) the follower's write.
    writeAll(leaderStore, "v1");
    store.note.upsert("mine", note("mine", "from the follower"));
    await vi.waitFor(() => expect(shownWhenConfirmed).toEqual([26]));
    expect(mirror.pending.value).toBe(0);
  });

  it("is applied whole when the mirror closes with parts still waiting", async () => {
    const { leaderStore, store, mirror } = await tabs({ changesPerTask: 10, applyEveryMs: 0 });
    const firstPart = new Promise<void>((done) => {
      const stop = store.subscribe(() => {
        stop();
        done();
      });
    });
    writeAll(leaderStore, "v1");
    await firstPart; // a microtask after the first part: the next one waits for its task
    expect(store.note.length).toBe(10);
    mirror.close();
    expect(store.note.length).toBe(25);
  });

  it("goes on past a part this tab's store refuses, which goes to onError", async () => {
    // The leader's schema takes a number where this tab's takes only a string.
    const Looser = type({
      id: "string",
      type: "'note'",
      updatedAt: "number",
      data: { text: "string | number" },
    });
    const name = `burst-${++names}`;
    const leaderStore = KalphiteStore(Looser);
    const leader = serveTabs({ store: leaderStore, name, durable: () => Promise.resolve() });
    open.push(leader);
    const store = KalphiteStore(Entity);
    const errors: Error[] = [];
    const mirror = mirrorTabs({
      store,
      name,
      changesPerTask: 10,
      applyEveryMs: 0,
      onError: (error) => errors.push(error),
    });
    open.push(mirror);
    await mirror.ready;
    leaderStore.note.upsertMany([
      ...ids(25).map((id) => ({ ...note(id, id), data: { text: id === "n5" ? 5 : id } })),
    ]);
    await new Promise((done) => setTimeout(done, 0));
    leader.publish("after");
    await vi.waitFor(() => expect(mirror.state.value).toBe("after"));
    // The part n0..n9 held the refused n5; the parts after it show.
    expect(errors).toHaveLength(1);
    expect(store.note.map((n) => n.id).sort()).toEqual(ids(25).slice(10).sort());
  });
});
