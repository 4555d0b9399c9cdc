import { effect } from "@preact/signals-core";
import { describe, expect, it, vi } from "vitest";
import { KalphiteStore, KalphiteUsageError } from "../../src/core/index.js";
import { countRuns } from "../fixtures/effects.js";
import { comment, Entity } from "../fixtures/schema.js";

const ids = (rows: readonly { id: string }[]) => rows.map((row) => row.id);
const name = (i: number) => `c${String(i).padStart(5, "0")}`;

function storeWithLines(count: number, lines = count) {
  const store = KalphiteStore(Entity);
  store.comment.upsertMany(
    Array.from({ length: count }, (_, i) =>
      comment(name(i), { lineNumber: i % lines, status: i % 2 ? "resolved" : "open" }),
    ),
  );
  return store;
}

describe("windows", () => {
  it("offset + limit shows a page of the sorted result, subscribed or not", () => {
    const store = storeWithLines(20);
    const page = store.comment.live.orderBy("data.lineNumber", "desc").offset(5).limit(3);
    expect(ids(page.value)).toEqual([name(14), name(13), name(12)]);
    const stop = page.subscribe(() => {});
    expect(ids(page.value)).toEqual([name(14), name(13), name(12)]);
    expect(page.total).toBe(20);
    expect(store.comment.live.offset(18).value).toHaveLength(2);
    expect(store.comment.live.offset(30).value).toEqual([]);
    stop();
  });

  it("moves without re-sorting and notifies only when the rows shown change", () => {
    const store = storeWithLines(2000, 100);
    const query = store.comment.live.orderBy("data.lineNumber");
    const window = query.window(0, 50);
    const seen: string[][] = [];
    const stop = window.subscribe((rows) => seen.push(ids(rows)));
    expect(seen).toHaveLength(1);
    const expected = (offset: number) =>
      [...store.comment]
        .sort((a, b) => a.data.lineNumber - b.data.lineNumber || (a.id < b.id ? -1 : 1))
        .slice(offset, offset + 50)
        .map((c) => c.id);
    expect(seen[0]).toEqual(expected(0));

    window.moveTo(1000);
    expect(window.offset).toBe(1000);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(expected(1000));
    window.moveTo(1000); // same place: nothing to do
    expect(seen).toHaveLength(2);

    // A write far after the window, and a move within the rows before it, show nothing new.
    const after = expected(1990)[5]!;
    store.comment.upsert(after, comment(after, { lineNumber: 99, body: "edited" }));
    const before = expected(0)[3]!;
    store.comment.upsert(before, comment(before, { lineNumber: 1 }));
    expect(seen).toHaveLength(2);

    // A row inserted before the window shifts it by one.
    store.comment.upsert("a-new", comment("a-new", { lineNumber: 0 }));
    expect(seen).toHaveLength(3);
    expect(seen[2]).toEqual(expected(1000));
    expect(window.total).toBe(2001);

    // A row edited inside the window.
    const inside = expected(1000)[10]!;
    store.comment.upsert(
      inside,
      comment(inside, { lineNumber: store.comment.findById(inside)!.data.lineNumber, body: "x" }),
    );
    expect(seen).toHaveLength(4);
    expect(window.value.find((c) => c.id === inside)?.data.body).toBe("x");

    window.moveTo(1990, 20);
    expect(window.count).toBe(20);
    expect(ids(window.value)).toEqual(expected(1990).slice(0, 11));
    stop();
  });

  it("total is reactive and the window works before anyone subscribes", () => {
    const store = storeWithLines(10);
    const window = store.comment.live.where((c) => c.data.status === "open").window(2, 2);
    expect(ids(window.value)).toEqual([name(4), name(6)]);
    expect(window.total).toBe(5);
    window.moveTo(4);
    expect(ids(window.value)).toEqual([name(8)]);
    const totals: number[] = [];
    const stop = effect(() => {
      totals.push(window.total);
    });
    store.comment.upsert("x", comment("x", { status: "open" }));
    store.comment.upsert("y", comment("y", { status: "resolved" }));
    store.comment.delete(name(0));
    expect(totals).toEqual([5, 6, 5]);
    stop();
  });

  it("first() and findOne() are the first row, kept up to date", () => {
    const store = storeWithLines(10);
    const newest = store.comment.live.orderBy("data.lineNumber", "desc").first();
    const runs = countRuns(() => newest.value);
    expect(newest.value?.id).toBe(name(9));
    store.comment.upsert("top", comment("top", { lineNumber: 100 }));
    expect(newest.value?.id).toBe("top");
    store.comment.upsert(name(3), comment(name(3), { lineNumber: 3, body: "below the top" }));
    expect(runs.runs).toBe(2);
    expect(store.comment.live.findOne((c) => c.data.lineNumber === 4).value?.id).toBe(name(4));
    expect(store.comment.live.findOne((c) => c.data.lineNumber === 400).value).toBeUndefined();
    expect(store.comment.live.orderBy("data.lineNumber").offset(2).first().value?.id).toBe(name(2));
    const listener = vi.fn();
    const stop = newest.subscribe(listener);
    store.comment.delete("top");
    expect(listener.mock.calls.map((call) => call[0]?.id)).toEqual(["top", name(9)]);
    stop();
    runs.dispose();
  });

  it("rejects bad positions and ambiguous windows", () => {
    const store = storeWithLines(3);
    expect(() => store.comment.live.offset(-1)).toThrow(KalphiteUsageError);
    expect(() => store.comment.live.window(0.5, 2)).toThrow(KalphiteUsageError);
    expect(() => store.comment.live.limit(5).window(0, 2)).toThrow(KalphiteUsageError);
    expect(() => store.comment.live.offset(2).groupBy("data.status")).toThrow(KalphiteUsageError);
    const window = store.comment.live.window(0, 2);
    expect(() => window.moveTo(-3)).toThrow(/non-negative integer/);
    expect(ids(window.value)).toEqual([name(0), name(1)]);
  });
});
