// A tab shows its data before any leader is up: from the snapshot cache a leader kept, or from
// a preview a tab about to lead sent; the leader's snapshot (in parts) then replaces it, and a
// write made meanwhile reaches the leader.
import { afterEach, describe, expect, it, vi } from "vitest";
import { entityKey } from "../../../src/core/entity-key.js";
import type { ChangeInput } from "../../../src/core/index.js";
import { KalphiteStore } from "../../../src/index.js";
import {
  mirrorTabs,
  previewTabs,
  serveTabs,
  type TabSnapshotCache,
} from "../../../src/sync/index.js";
import { Entity, note } from "./notes.js";

/** A snapshot cache in memory, paged as IndexedDB's is. */
function memoryCache(initial?: Entity[]): TabSnapshotCache & { rows: Map<string, Entity> } {
  const rows = new Map<string, Entity>();
  let written = initial !== undefined;
  for (const entity of initial ?? []) rows.set(entityKey(entity.type, entity.id), entity);
  return {
    rows,
    written: async () => written,
    async *pages(pageSize = 2) {
      const all = [...rows.values()];
      for (let i = 0; i < all.length; i += pageSize) yield all.slice(i, i + pageSize);
    },
    async replace(entities) {
      written = true;
      rows.clear();
      for (const entity of entities) rows.set(entityKey(entity.type, entity.id), entity as Entity);
    },
    async write(changes: readonly ChangeInput[]) {
      for (const change of changes) {
        const key = entityKey(change.entityType, change.entityId);
        if (change.operation === "delete") rows.delete(key);
        else rows.set(key, change.entity as Entity);
      }
    },
    close() {},
  };
}

let names = 0;
const open: { close(): void }[] = [];
afterEach(() => {
  for (const tab of open.splice(0)) tab.close();
});

const texts = (store: KalphiteStore<Entity>) => store.note.map((n) => n.data.text).sort();

describe("a tab's data before its leader is up", () => {
  it("shows the snapshot cache, then the leader's snapshot replaces it", async () => {
    const name = `preview-${++names}`;
    const cache = memoryCache([note("a", "cached"), note("b", "gone since"), note("c", "same")]);
    const store = KalphiteStore(Entity);
    const mirror = mirrorTabs({ store, name, cache });
    open.push(mirror);
    await mirror.shown;
    expect(texts(store)).toEqual(["cached", "gone since", "same"]);

    const leaderStore = KalphiteStore(Entity);
    leaderStore.note.upsert("a", note("a", "newer"));
    leaderStore.note.upsert("c", note("c", "same"));
    open.push(serveTabs({ store: leaderStore, name, durable: () => Promise.resolve() }));
    await mirror.ready;
    expect(texts(store)).toEqual(["newer", "same"]);
  });

  it("a write made while only the preview shows reaches the leader once it is up", async () => {
    const name = `preview-${++names}`;
    const store = KalphiteStore(Entity);
    const mirror = mirrorTabs({ store, name });
    open.push(mirror);
    previewTabs({ name, entities: [note("a", "from the server")] });
    await mirror.shown;
    expect(texts(store)).toEqual(["from the server"]);
    store.note.upsert("b", note("b", "written early"));
    await vi.waitFor(() => expect(mirror.pending.value).toBe(1));

    const leaderStore = KalphiteStore(Entity);
    leaderStore.note.upsert("a", note("a", "from the server"));
    open.push(serveTabs({ store: leaderStore, name, durable: () => Promise.resolve() }));
    await vi.waitFor(() => expect(mirror.pending.value).toBe(0));
    expect(texts(leaderStore)).toEqual(["from the server", "written early"]);
    expect(texts(store)).toEqual(["from the server", "written early"]);
  });

  it("a snapshot larger than one part arrives whole, and a preview after it is ignored", async () => {
    const name = `preview-${++names}`;
    const leaderStore = KalphiteStore(Entity);
    leaderStore.note.upsertMany(
      Array.from({ length: 1_234 }, (_, i) => note(`n${i}`, `note ${i}`)),
    );
    open.push(serveTabs({ store: leaderStore, name, durable: () => Promise.resolve() }));
    const store = KalphiteStore(Entity);
    const mirror = mirrorTabs({ store, name });
    open.push(mirror);
    await mirror.ready;
    expect(store.note.slice().length).toBe(1_234);
    previewTabs({ name, entities: [note("x", "stale preview")] });
    leaderStore.note.upsert("last", note("last", "after"));
    await vi.waitFor(() => expect(store.note.findById("last")).toBeDefined());
    expect(store.note.findById("x")).toBeUndefined();
  });

  it("the leader keeps the cache: all of its store at once, then each change", async () => {
    const name = `preview-${++names}`;
    const cache = memoryCache();
    const leaderStore = KalphiteStore(Entity);
    leaderStore.note.upsert("a", note("a", "first"));
    open.push(serveTabs({ store: leaderStore, name, durable: () => Promise.resolve(), cache }));
    expect(await cache.written()).toBe(true);
    leaderStore.note.upsert("b", note("b", "second"));
    leaderStore.note.delete("a");
    await vi.waitFor(() =>
      expect([...cache.rows.values()].map((n) => n.data.text)).toEqual(["second"]),
    );
  });
});
