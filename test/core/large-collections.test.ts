import { describe, expect, it, vi } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import { countRuns } from "../fixtures/effects.js";
import { type Comment, comment, Entity } from "../fixtures/schema.js";

const SIZE = 100_000;

function manyComments(count: number): Comment[] {
  return Array.from({ length: count }, (_, i) =>
    comment(`c${i}`, { lineNumber: i % 1000, status: i % 3 ? "open" : "resolved" }, i),
  );
}

describe("large collections", () => {
  it("upsertMany of 100,000 entities works, and the collection reads as an array", () => {
    const store = KalphiteStore(Entity);
    const written = store.comment.upsertMany(manyComments(SIZE));
    expect(written).toHaveLength(SIZE);
    expect(store.comment.length).toBe(SIZE);
    expect(store.comment[SIZE - 1]?.id).toBe(`c${SIZE - 1}`);
    expect([...store.comment]).toHaveLength(SIZE);
    expect(store.comment.map((c) => c.id)).toHaveLength(SIZE);
    expect(JSON.parse(JSON.stringify(store.comment.slice(0, 2)))).toEqual(manyComments(2));
    expect(store.comment.orderBy("updatedAt", "desc")[0]?.id).toBe(`c${SIZE - 1}`);
    expect(store.comment.where((c) => c.data.lineNumber === 7)).toHaveLength(SIZE / 1000);
    expect(store.comment.groupBy("data.status").resolved).toHaveLength(Math.ceil(SIZE / 3));
    expect(store.comment.deleteMany(written.slice(0, SIZE / 2).map((c) => c.id))).toBe(SIZE / 2);
    expect(store.comment.length).toBe(SIZE / 2);
  });

  it("live queries over 100,000 entities stay right after writes", () => {
    const store = KalphiteStore(Entity);
    store.comment.upsertMany(manyComments(SIZE));
    const latestOpen = store.comment.live
      .where((c) => c.data.status === "open")
      .orderBy("updatedAt", "desc")
      .limit(50);
    const byLine = store.comment.live.orderBy("data.lineNumber");
    const seen: Comment[][] = [];
    const stops = [latestOpen.subscribe((rows) => seen.push(rows)), byLine.subscribe(() => {})];
    // c99999 is resolved (99999 % 3 === 0): the latest open comment is c99998.
    expect(latestOpen.value[0]?.id).toBe(`c${SIZE - 2}`);
    expect(byLine.value).toHaveLength(SIZE);

    store.comment.upsert("newest", comment("newest", { status: "open" }, SIZE * 2));
    store.comment.upsert("c5", comment("c5", { lineNumber: -1, status: "resolved" }, 5));
    store.comment.delete(`c${SIZE - 1}`); // resolved: not visible in latestOpen
    store.comment.delete(`c${SIZE - 2}`);
    expect(latestOpen.value).toHaveLength(50);
    expect(latestOpen.value[0]?.id).toBe("newest");
    expect(latestOpen.value[1]?.id).toBe(`c${SIZE - 3}`);
    expect(byLine.value[0]?.id).toBe("c5");
    expect(byLine.value).toHaveLength(SIZE - 1);
    expect(seen).toHaveLength(3); // the first call, "newest", deleting c99998
    for (const stop of stops) stop();
  });

  it("does no work proportional to the collection on a write, or on findById after writes", () => {
    const store = KalphiteStore(Entity);
    store.comment.upsertMany(manyComments(10_000));
    const byId = countRuns(() => store.comment.findById("c1"));
    store.comment.length; // the snapshot is built once here
    // Building a snapshot (or re-filtering) walks the collection's Map; a write must not.
    const walks = vi.spyOn(Map.prototype, "values");
    const pushes = vi.spyOn(Array.prototype, "push");
    try {
      for (let i = 0; i < 1000; i++) {
        store.comment.upsert(`c${i}`, comment(`c${i}`, { body: `edit ${i}` }));
        store.comment.findById(`c${i}`);
        store.comment.signal(`c${i + 1}`).value;
      }
      expect(walks).not.toHaveBeenCalled();
      expect(pushes).not.toHaveBeenCalled();
    } finally {
      walks.mockRestore();
      pushes.mockRestore();
    }
    expect(byId.runs).toBe(2);
    // The snapshot is rebuilt lazily, once, on the next read of the contents.
    const rebuilds = vi.spyOn(Map.prototype, "values");
    try {
      expect(store.comment.length).toBe(10_000);
      expect(store.comment[0]?.data.body).toBe("edit 0");
      expect(rebuilds).toHaveBeenCalledTimes(1);
    } finally {
      rebuilds.mockRestore();
    }
    byId.dispose();
  });
});
