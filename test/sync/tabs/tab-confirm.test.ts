// A follower's write that the leader could not make durable at first: never confirmed while the
// durable point fails, confirmed once it succeeds again, with no later write needed.
import { afterEach, expect, it, vi } from "vitest";
import { KalphiteStore } from "../../../src/index.js";
import { mirrorTabs, serveTabs } from "../../../src/sync/index.js";
import { Entity, note } from "./notes.js";

const open: { close(): void }[] = [];
afterEach(() => {
  for (const tab of open.splice(0)) tab.close();
});

it("a write whose durable point failed is confirmed by the next one that succeeds", async () => {
  const name = "confirm-after-failure";
  let failing = true;
  const errors: unknown[] = [];
  const leaderStore = KalphiteStore(Entity);
  open.push(
    serveTabs({
      store: leaderStore,
      name,
      durable: async () => {
        if (failing) throw new Error("the disk is full");
      },
      onError: (error) => errors.push(error),
    }),
  );
  const store = KalphiteStore(Entity);
  const mirror = mirrorTabs({ store, name });
  open.push(mirror);
  await mirror.ready;

  store.note.upsert("a", note("a", "kept"));
  await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0));
  expect(mirror.pending.value).toBe(1);
  expect(leaderStore.note.findById("a")?.data.text).toBe("kept");

  failing = false;
  await vi.waitFor(() => expect(mirror.pending.value).toBe(0), { timeout: 5000 });
});
