// One behavioural suite for NetworkSyncEngine over a transport, run over each: a real `ws` socket
// to a real sync server on 127.0.0.1 port 0, and the simulated network (virtual clock: nothing
// moves until the test moves it, so every run is the same). See test/support/sync-transports.ts.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ConnectionStatus,
  memoryPersistence,
  type RemoteChange,
} from "../../src/sync/index.js";
import { comment } from "../fixtures/schema.js";
import {
  type SyncTestClient,
  type SyncTransport,
  simulatedTransport,
  socketTransport,
} from "../support/sync-transports.js";

const transports: [string, () => Promise<SyncTransport>][] = [
  ["a real ws socket to a sync server on port 0", () => socketTransport()],
  ["the simulated network", async () => simulatedTransport()],
];

describe.each(transports)("NetworkSyncEngine contract: %s", (_name, open) => {
  let net: SyncTransport;
  beforeEach(async () => {
    net = await open();
  });
  afterEach(() => net.close());

  /** A client, connected (connect() resolves once joined and caught up). */
  async function connected(userId: string): Promise<SyncTestClient> {
    const client = net.client(userId);
    await net.settle(client.engine.connect(), `${userId} to connect`);
    return client;
  }

  it("connect() joins the room, reaches connected and catches up before it resolves", async () => {
    const bob = await connected("bob");
    bob.store.comment.upsert("before", comment("before", { body: "written before ann joined" }));
    await net.until(() => bob.engine.getOfflineQueueSize() === 0, "bob's write acknowledged");

    const ann = net.client("ann");
    const statuses: ConnectionStatus[] = [];
    ann.engine.on("status", (status) => statuses.push(status));
    const synced: number[] = [];
    ann.engine.on("synced", (head) => synced.push(head));
    expect(ann.engine.getConnectionStatus()).toBe("disconnected");
    expect(ann.engine.status.value).toBe("offline");

    await net.settle(ann.engine.connect(), "ann to connect");
    expect(ann.engine.getConnectionStatus()).toBe("connected");
    expect(ann.engine.status.value).toBe("synced");
    expect(statuses).toEqual(["connecting", "connected"]);
    expect(synced).toEqual([1]);
    expect(ann.engine.getCursor()).toBe(1);
    expect(ann.store.comment.findById("before")?.data.body).toBe("written before ann joined");
    // Connecting again while connected is a no-op.
    await net.settle(ann.engine.connect(), "a second connect()");
    expect(statuses).toEqual(["connecting", "connected"]);
  });

  it("a local upsert reaches another client, as a remote change", async () => {
    const [ann, bob] = [await connected("ann"), await connected("bob")];
    const changes: RemoteChange[] = [];
    bob.engine.on("change", (change) => changes.push(change));
    const written = comment("c1", { body: "hello", lineNumber: 7 });
    ann.store.comment.upsert("c1", written);

    await net.until(() => bob.store.comment.findById("c1") !== undefined, "c1 at bob");
    expect(bob.store.comment.findById("c1")).toEqual(written);
    expect(changes).toMatchObject([
      { operation: "upsert", entityType: "comment", entityId: "c1", userId: "ann" },
    ]);
    // The writer is not sent its own change back as a remote one.
    await net.until(() => ann.engine.getOfflineQueueSize() === 0, "ann's write acknowledged");
    expect(ann.store.comment.findById("c1")).toEqual(written);
    expect((await net.log()).map((e) => [e.entityId, e.userId])).toEqual([["c1", "ann"]]);
  });

  it("a delete reaches another client", async () => {
    const [ann, bob] = [await connected("ann"), await connected("bob")];
    ann.store.comment.upsert("c1", comment("c1"));
    ann.store.comment.upsert("c2", comment("c2"));
    await net.until(() => bob.store.comment.length === 2, "both comments at bob");
    const changes: RemoteChange[] = [];
    bob.engine.on("change", (change) => changes.push(change));

    expect(ann.store.comment.delete("c1")).toBe(true);
    await net.until(() => bob.store.comment.findById("c1") === undefined, "the delete at bob");
    expect(bob.store.comment.map((c) => c.id)).toEqual(["c2"]);
    expect(changes).toMatchObject([{ operation: "delete", entityType: "comment", entityId: "c1" }]);
    const log = await net.log();
    expect(log.at(-1)).toMatchObject({ operation: "delete", entityId: "c1", userId: "ann" });
  });

  it("writes made while disconnected are sent once on reconnect, and the server applies each once", async () => {
    const [ann, bob] = [await connected("ann"), await connected("bob")];
    ann.store.comment.upsert("gone", comment("gone"));
    await net.until(() => bob.store.comment.findById("gone") !== undefined, "gone at bob");

    await net.settle(ann.engine.disconnect(), "ann to disconnect");
    ann.store.comment.upsert("o1", comment("o1", { body: "offline 1" }));
    ann.store.comment.upsert("o2", comment("o2", { body: "offline 2" }));
    ann.store.comment.upsert("o1", comment("o1", { body: "offline 1, edited" }, 2));
    ann.store.comment.delete("gone");
    const queued = ann.engine.getOutbox().map((e) => e.messageId);
    expect(queued).toHaveLength(4);
    expect(ann.engine.getOfflineQueueSize()).toBe(4);
    const before = (await net.log()).length;

    await net.settle(ann.engine.connect(), "ann to reconnect");
    await net.until(
      () =>
        ann.engine.getOfflineQueueSize() === 0 &&
        bob.engine.getCursor() === before + 4 &&
        bob.store.comment.findById("gone") === undefined,
      "the offline writes acknowledged and at bob",
    );
    const log = await net.log();
    expect(log.slice(before).map((e) => e.messageId)).toEqual(queued);
    expect(log).toHaveLength(before + 4);
    expect(bob.store.comment.findById("o1")?.data.body).toBe("offline 1, edited");
    expect(bob.store.comment.findById("o2")?.data.body).toBe("offline 2");
    expect(bob.store.comment.map((c) => c.id).sort()).toEqual(["o1", "o2"]);
  });

  it("a write whose acknowledgement was lost with the connection is resent and applied once", async () => {
    const [ann, bob] = [await connected("ann"), await connected("bob")];
    ann.store.comment.upsert("c1", comment("c1", { body: "sent as the connection dropped" }));
    const [sent] = ann.engine.getOutbox().map((e) => e.messageId);
    net.loseConnection(ann);

    await net.until(
      () =>
        ann.engine.getConnectionStatus() === "connected" &&
        ann.engine.getOfflineQueueSize() === 0 &&
        bob.store.comment.findById("c1") !== undefined,
      "ann to reconnect and c1 acknowledged",
    );
    const log = await net.log();
    expect(log.filter((e) => e.messageId === sent)).toHaveLength(1);
    expect(log).toHaveLength(1);
    expect(bob.store.comment.findById("c1")?.data.body).toBe("sent as the connection dropped");
  });

  it("two clients editing one entity concurrently converge to the same value", async () => {
    const [ann, bob] = [await connected("ann"), await connected("bob")];
    ann.store.comment.upsert("c1", comment("c1", { body: "base" }, 1));
    await net.until(() => bob.store.comment.findById("c1") !== undefined, "c1 at bob");

    // Both edit the same version before either hears of the other's edit.
    ann.store.comment.upsert("c1", comment("c1", { body: "ann's edit" }, 10));
    bob.store.comment.upsert("c1", comment("c1", { body: "bob's edit" }, 20));
    await net.until(
      () =>
        ann.engine.getOfflineQueueSize() === 0 &&
        bob.engine.getOfflineQueueSize() === 0 &&
        ann.engine.getCursor() === 3 &&
        bob.engine.getCursor() === 3,
      "both edits applied at both clients",
    );
    const atAnn = ann.store.comment.findById("c1");
    expect(bob.store.comment.findById("c1")).toEqual(atAnn);
    // Last write wins by updatedAt (the default strategy): bob's, on both.
    expect(atAnn?.data.body).toBe("bob's edit");
    const log = await net.log();
    expect(log.at(-1)?.entity).toEqual(atAnn);
  });

  it("the offline queue size (and the queueSize signal) goes back to 0 once acknowledged", async () => {
    const ann = await connected("ann");
    const sizes: number[] = [];
    ann.engine.on("queue", (size) => sizes.push(size));
    ann.store.comment.upsert("c1", comment("c1"));
    ann.store.comment.upsert("c2", comment("c2"));
    ann.store.review.upsert("r1", { id: "r1", type: "review", updatedAt: 1, data: { title: "r" } });
    expect(ann.engine.getOfflineQueueSize()).toBe(3);
    expect(ann.engine.queueSize.value).toBe(3);
    expect(ann.engine.status.value).toBe("pending");

    await net.until(() => ann.engine.getOfflineQueueSize() === 0, "every write acknowledged");
    expect(ann.engine.queueSize.value).toBe(0);
    expect(ann.engine.status.value).toBe("synced");
    expect(sizes.slice(0, 3)).toEqual([1, 2, 3]);
    expect(sizes.at(-1)).toBe(0);
    expect((await net.log()).map((e) => e.entityId)).toEqual(["c1", "c2", "r1"]);
  });

  it("disconnect() stops syncing both ways until connect()", async () => {
    const [ann, bob] = [await connected("ann"), await connected("bob")];
    const statuses: ConnectionStatus[] = [];
    await net.settle(ann.engine.disconnect(), "ann to disconnect");
    ann.engine.on("status", (status) => statuses.push(status));
    expect(ann.engine.getConnectionStatus()).toBe("disconnected");
    expect(ann.engine.status.value).toBe("offline");

    ann.store.comment.upsert("from-ann", comment("from-ann"));
    bob.store.comment.upsert("from-bob", comment("from-bob"));
    await net.until(() => bob.engine.getOfflineQueueSize() === 0, "bob's write acknowledged");
    // Long past every reconnect delay (virtual time on the simulated network).
    await net.elapse(60_000);
    const carol = await connected("carol");
    expect(carol.store.comment.map((c) => c.id)).toEqual(["from-bob"]);
    expect((await net.log()).map((e) => e.entityId)).toEqual(["from-bob"]);
    expect(ann.store.comment.findById("from-bob")).toBeUndefined();
    expect(ann.engine.getOfflineQueueSize()).toBe(1);
    expect(ann.engine.getConnectionStatus()).toBe("disconnected");
    expect(statuses).toEqual([]); // it did not try to reconnect

    await net.settle(ann.engine.connect(), "ann to reconnect");
    await net.until(
      () =>
        ann.engine.getOfflineQueueSize() === 0 &&
        bob.store.comment.findById("from-ann") !== undefined,
      "both writes everywhere",
    );
    expect(ann.store.comment.findById("from-bob")).toEqual(comment("from-bob"));
  });

  it("a client recreated on its persistence resumes from its cursor and sends its saved outbox once", async () => {
    const saved = memoryPersistence();
    const bob = await connected("bob");
    const first = net.client("ann", { persistence: saved });
    await net.settle(first.engine.connect(), "ann to connect");
    first.store.comment.upsert("online", comment("online", { body: "acknowledged" }));
    await net.until(() => first.engine.getOfflineQueueSize() === 0, "the online write acked");
    await net.settle(first.engine.disconnect(), "ann to disconnect");
    first.store.comment.upsert("offline", comment("offline", { body: "written offline" }));
    const [pending] = first.engine.getOutbox().map((e) => e.messageId);
    await net.settle(first.engine.destroy(), "the first engine to stop");

    // A new run: an empty store, the same persistence.
    const again = net.client("ann", { persistence: saved });
    await net.settle(again.engine.whenLoaded(), "the saved state to load");
    expect(again.engine.getCursor()).toBe(1);
    expect(again.engine.getOutbox().map((e) => e.messageId)).toEqual([pending]);
    expect(again.store.comment.findById("online")?.data.body).toBe("acknowledged");
    expect(again.store.comment.findById("offline")?.data.body).toBe("written offline");

    await net.settle(again.engine.connect(), "ann to reconnect");
    await net.until(
      () =>
        again.engine.getOfflineQueueSize() === 0 &&
        bob.store.comment.findById("offline") !== undefined,
      "the saved write acknowledged and at bob",
    );
    const log = await net.log();
    expect(log.map((e) => e.entityId)).toEqual(["online", "offline"]);
    expect(log[1]?.messageId).toBe(pending);
    expect(again.engine.getCursor()).toBe(2);
  });
});
