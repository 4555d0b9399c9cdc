// A follower's edit of one field while another user's edit of another field is at the leader
// and not yet at the follower: the leader writes only the follower's field, so both edits stay
// (as they do when both are made in one store).
import { afterEach, expect, it, vi } from "vitest";
import { KalphiteStore } from "../../../src/index.js";
import { mirrorTabs, serveTabs } from "../../../src/sync/index.js";
import { comment, Entity } from "../../fixtures/schema.js";

const open: { close(): void }[] = [];
afterEach(() => {
  for (const tab of open.splice(0)) tab.close();
});

it("a follower's edit made on an older version keeps the fields another user changed meanwhile", async () => {
  const name = "concurrent-fields";
  const leaderStore = KalphiteStore(Entity);
  leaderStore.comment.upsert("c1", comment("c1", { body: "original", status: "open" }, 1));
  open.push(serveTabs({ store: leaderStore, name, durable: () => Promise.resolve() }));
  const store = KalphiteStore(Entity);
  // A window longer than the test: the leader's changes wait in the follower until the ack.
  const mirror = mirrorTabs({ store, name, applyEveryMs: 60_000 });
  open.push(mirror);
  await mirror.ready;

  // Bob resolves the comment: the leader has it, the follower does not show it yet.
  leaderStore.comment.upsert("c1", comment("c1", { body: "original", status: "resolved" }, 2), {
    origin: "remote",
  });
  await new Promise((done) => setImmediate(done));
  const seen = store.comment.findById("c1")!;
  expect(seen.data.status).toBe("open");
  store.comment.upsert("c1", { ...seen, updatedAt: 3, data: { ...seen.data, body: "ann's" } });

  const both = { body: "ann's", lineNumber: 1, status: "resolved" };
  await vi.waitFor(() =>
    expect(leaderStore.comment.findById("c1")).toEqual({ ...seen, updatedAt: 3, data: both }),
  );
  await vi.waitFor(() => expect(store.comment.findById("c1")?.data).toEqual(both));
});
