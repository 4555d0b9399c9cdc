// A follower's write heard twice (posted before the follower knew its leader and resent to it,
// or resent to the next leader after the server stored it) is made once: a resend never writes
// the follower's old version over a newer edit.
import { afterEach, describe, expect, it, vi } from "vitest";
import { KalphiteStore } from "../../../src/index.js";
import { mirrorTabs, NetworkSyncEngine, serveTabs } from "../../../src/sync/index.js";
import { cleanupAfterEach, devServer, WS, waitUntil } from "../../server/helpers.js";
import { Entity, note } from "./notes.js";

const cleanups = cleanupAfterEach();
const open: { close(): void }[] = [];
afterEach(() => {
  for (const tab of open.splice(0)) tab.close();
});

describe("a follower's write resent", { timeout: 30_000 }, () => {
  it("to the leader that made it already is not made again over a newer version", async () => {
    const name = "resent-to-the-same-leader";
    const leaderStore = KalphiteStore(Entity);
    // The server's newer version arrives right after the leader made the follower's write.
    let newer = false;
    leaderStore.onChange((change) => {
      if (change.origin !== "local" || newer) return;
      newer = true;
      queueMicrotask(() =>
        leaderStore.note.upsert("a", note("a", "the server's newer", 5), { origin: "remote" }),
      );
    });
    open.push(serveTabs({ store: leaderStore, name, durable: () => Promise.resolve() }));
    const store = KalphiteStore(Entity);
    const mirror = mirrorTabs({ store, name });
    open.push(mirror);
    // Written before the leader answered: posted to whoever leads, then resent to the leader.
    store.note.upsert("a", note("a", "early", 1));
    await mirror.ready;
    await vi.waitFor(() => expect(store.note.findById("a")?.data.text).toBe("the server's newer"));
    expect(mirror.pending.value).toBe(0);
    expect(leaderStore.note.findById("a")?.data.text).toBe("the server's newer");
  });

  it("to the next leader after the server stored it does not overwrite a later edit", async () => {
    const server = await devServer(cleanups);
    const engineOf = async (userId: string, store: KalphiteStore<Entity>) => {
      const engine = new NetworkSyncEngine({
        wsUrl: server.url,
        roomId: "r",
        userId,
        store,
        WebSocket: WS,
      });
      cleanups.push(() => engine.destroy());
      await engine.connect();
      return engine;
    };
    const name = "resent-to-the-next-leader";
    // The first leader sends the follower's write to the server, and goes away before its
    // durable point: the follower never hears that its write is safe.
    const firstStore = KalphiteStore(Entity);
    const first = await engineOf("ann", firstStore);
    const firstLeader = serveTabs({
      store: firstStore,
      name,
      durable: () => new Promise(() => {}),
    });
    const store = KalphiteStore(Entity);
    const mirror = mirrorTabs({ store, name });
    open.push(mirror);
    await mirror.ready;
    store.note.upsert("n1", note("n1", "ann's edit", 1));
    await waitUntil(
      () => firstStore.note.findById("n1") !== undefined && first.getOfflineQueueSize() === 0,
      { engines: [first], stores: [firstStore] },
      "the server stored ann's edit",
    );
    firstLeader.close();
    await first.destroy();

    // Bob edits it later.
    const bobStore = KalphiteStore(Entity);
    const bob = await engineOf("bob", bobStore);
    bobStore.note.upsert("n1", note("n1", "bob's later edit", 5));
    await waitUntil(() => bob.getOfflineQueueSize() === 0, { engines: [bob] }, "bob's edit stored");

    // The next leader joins (it sees bob's edit) and gets the follower's write again.
    const nextStore = KalphiteStore(Entity);
    const next = await engineOf("ann", nextStore);
    open.push(serveTabs({ store: nextStore, name, durable: () => Promise.resolve() }));
    await vi.waitFor(() => expect(mirror.pending.value).toBe(0));
    await waitUntil(
      () => next.getOfflineQueueSize() === 0,
      { engines: [next] },
      "the resent change answered",
    );
    await new Promise((done) => setTimeout(done, 100)); // a broadcast to bob would be here by now
    expect(bobStore.note.findById("n1")?.data.text).toBe("bob's later edit");
    expect(nextStore.note.findById("n1")?.data.text).toBe("bob's later edit");
    await vi.waitFor(() => expect(store.note.findById("n1")?.data.text).toBe("bob's later edit"));
  });
});
