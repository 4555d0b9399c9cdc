// A follower's write the leader refuses (its schema is stricter, or the write is over the sync
// limits): the leader never held it, so the follower shows the leader's version again.
import { type } from "arktype";
import { afterEach, expect, it, vi } from "vitest";
import { KalphiteStore } from "../../../src/index.js";
import { mirrorTabs, serveTabs } from "../../../src/sync/index.js";
import { Entity, note } from "./notes.js";

const open: { close(): void }[] = [];
afterEach(() => {
  for (const tab of open.splice(0)) tab.close();
});

/** The leader's schema: a note's text "forbidden" does not pass it. */
const StrictEntity = type({
  id: "string",
  type: "'note'",
  updatedAt: "number",
  data: { text: "string" },
}).narrow((entity) => entity.data.text !== "forbidden");

it("a refused write is replaced by the leader's version, or removed when the leader has none", async () => {
  const name = "refused-write";
  const leaderStore = KalphiteStore(StrictEntity);
  leaderStore.note.upsert("a", note("a", "the leader's"));
  open.push(serveTabs({ store: leaderStore, name, durable: () => Promise.resolve() }));
  const store = KalphiteStore(Entity);
  const errors: Error[] = [];
  const mirror = mirrorTabs({ store, name, onError: (error) => errors.push(error) });
  open.push(mirror);
  await mirror.ready;

  store.note.upsert("a", note("a", "forbidden", 2));
  store.note.upsert("b", note("b", "forbidden"));
  await vi.waitFor(() => expect(errors).toHaveLength(1));
  expect(mirror.pending.value).toBe(0);
  expect(store.note.findById("a")?.data.text).toBe("the leader's");
  expect(store.note.findById("b")).toBeUndefined();
  expect(leaderStore.note.findById("b")).toBeUndefined();
});
