import { effect } from "@preact/signals-core";
import { describe, expect, it, vi } from "vitest";
import { KalphiteStore, KalphiteUsageError, type LiveQueryChange } from "../../src/core/index.js";
import { countRuns } from "../fixtures/effects.js";
import { type Comment, comment, Entity, review } from "../fixtures/schema.js";

const ids = (rows: readonly { id: string }[]) => rows.map((row) => row.id);

function storeWithLines(count: number) {
  const store = KalphiteStore(Entity);
  store.comment.upsertMany(
    Array.from({ length: count }, (_, i) =>
      comment(`c${String(i).padStart(3, "0")}`, {
        lineNumber: i,
        status: i % 2 ? "resolved" : "open",
      }),
    ),
  );
  return store;
}

describe("live queries", () => {
  it("filter with where/filter chained, order with a direction, and limit", () => {
    const store = storeWithLines(20);
    const query = store.comment.live
      .where((c) => c.data.status === "open")
      .filter((c) => c.data.lineNumber >= 4)
      .orderBy((c) => c.data.lineNumber, "desc")
      .limit(3);
    expect(ids(query.value)).toEqual(["c018", "c016", "c014"]);
    expect(ids(store.comment.live.orderBy("data.lineNumber").limit(2).value)).toEqual([
      "c000",
      "c001",
    ]);
    expect(store.comment.live.limit(0).value).toEqual([]);
    expect(ids(store.comment.live.where((c) => c.data.lineNumber < 3).value)).toEqual([
      "c000",
      "c001",
      "c002",
    ]);
  });

  it("orders by id without orderBy, and breaks ties by id", () => {
    const store = KalphiteStore(Entity);
    store.comment.upsertMany([comment("b", {}, 1), comment("c", {}, 2), comment("a", {}, 1)]);
    expect(ids(store.comment.live.value)).toEqual(["a", "b", "c"]);
    expect(ids(store.comment.live.orderBy("updatedAt").value)).toEqual(["a", "b", "c"]);
    expect(ids(store.comment.live.orderBy("updatedAt", "desc").value)).toEqual(["c", "a", "b"]);
  });

  it("rejects bad arguments", () => {
    const store = storeWithLines(1);
    expect(() => store.comment.live.where(5 as never)).toThrow(KalphiteUsageError);
    expect(() => store.comment.live.limit(-1)).toThrow(KalphiteUsageError);
    expect(() => store.comment.live.limit(1.5)).toThrow(KalphiteUsageError);
    expect(() => store.comment.live.orderBy("id", "up" as never)).toThrow(KalphiteUsageError);
  });

  it("unsubscribed reads recompute correctly after writes", () => {
    const store = storeWithLines(5);
    const open = store.comment.live
      .where((c) => c.data.status === "open")
      .orderBy("data.lineNumber");
    expect(ids(open.value)).toEqual(["c000", "c002", "c004"]);
    store.comment.upsert("c001", comment("c001", { lineNumber: 1, status: "open" }));
    store.comment.delete("c000");
    expect(ids(open.value)).toEqual(["c001", "c002", "c004"]);
    expect(ids(open.peek())).toEqual(["c001", "c002", "c004"]);
    expect(open.value).toBe(open.value);
  });

  it("subscribe calls the listener once at first, then once per visible change", () => {
    const store = storeWithLines(5);
    const query = store.comment.live.where((c) => c.data.status === "open");
    const seen: string[][] = [];
    const stop = query.subscribe((rows) => seen.push(ids(rows)));
    expect(seen).toEqual([["c000", "c002", "c004"]]);
    store.comment.upsert("c005", comment("c005", { status: "open" }));
    store.comment.upsert("c001", comment("c001", { status: "resolved", body: "edited" }));
    store.comment.delete("c000");
    expect(seen).toEqual([
      ["c000", "c002", "c004"],
      ["c000", "c002", "c004", "c005"],
      ["c002", "c004", "c005"],
    ]);
    stop();
    store.comment.delete("c002");
    expect(seen).toHaveLength(3);
  });

  it("subscribing causes exactly one initial run, in effects too", () => {
    const store = storeWithLines(10);
    const query = store.comment.live.orderBy("data.lineNumber", "desc").limit(3);
    query.value; // computed once before anyone subscribes
    const listener = vi.fn();
    const stop = query.subscribe(listener);
    expect(listener).toHaveBeenCalledTimes(1);
    const watcher = countRuns(() => query.value);
    expect(watcher.runs).toBe(1);
    const other = store.comment.live.where(() => true);
    const fresh = countRuns(() => other.value);
    expect(fresh.runs).toBe(1);
    stop();
    watcher.dispose();
    fresh.dispose();
  });

  it("a write that leaves the visible result unchanged notifies no subscriber", () => {
    const store = storeWithLines(100);
    const firstFifty = store.comment.live.orderBy("data.lineNumber").limit(50);
    const open = store.comment.live.where((c) => c.data.status === "open");
    const listeners = [vi.fn(), vi.fn()];
    const stops = [firstFifty.subscribe(listeners[0]!), open.subscribe(listeners[1]!)];
    const effectRuns = countRuns(() => firstFifty.value);

    // Outside the limit(50) window of the first query, and not matching the second.
    store.comment.upsert(
      "c099",
      comment("c099", { lineNumber: 99, status: "resolved", body: "x" }),
    );
    store.comment.upsert("z", comment("z", { lineNumber: 500, status: "resolved" }));
    store.comment.delete("c097");
    store.review.upsert("r", review("r"));
    expect(listeners[0]).toHaveBeenCalledTimes(1);
    expect(listeners[1]).toHaveBeenCalledTimes(1);
    expect(effectRuns.runs).toBe(1);

    // Into the window, and matching.
    store.comment.upsert("c001", comment("c001", { lineNumber: 1, status: "open" }));
    expect(listeners[0]).toHaveBeenCalledTimes(2);
    expect(listeners[1]).toHaveBeenCalledTimes(2);
    expect(effectRuns.runs).toBe(2);
    for (const stop of stops) stop();
    effectRuns.dispose();
  });

  it("a batch that adds and removes a visible row notifies nobody", () => {
    const store = storeWithLines(10);
    const query = store.comment.live.orderBy("data.lineNumber").limit(5);
    const listener = vi.fn();
    const stop = query.subscribe(listener);
    const before = query.value;
    store.batch(() => {
      store.comment.upsert("first", comment("first", { lineNumber: -1 }));
      store.comment.delete("first");
    });
    expect(listener).toHaveBeenCalledTimes(1);
    expect(query.value).toBe(before);
    stop();
  });

  it("a batch of writes notifies a live query subscriber once", () => {
    const store = storeWithLines(10);
    const listener = vi.fn();
    const stop = store.comment.live.orderBy("data.lineNumber").subscribe(listener);
    store.batch(() => {
      for (let i = 0; i < 5; i++)
        store.comment.upsert(`n${i}`, comment(`n${i}`, { lineNumber: i }));
    });
    expect(listener).toHaveBeenCalledTimes(2);
    expect(listener.mock.lastCall?.[0]).toHaveLength(15);
    stop();
  });

  it("re-subscribing after unsubscribing works and sees writes made in between", () => {
    const store = storeWithLines(4);
    const query = store.comment.live.orderBy("data.lineNumber", "desc").limit(2);
    const first: string[][] = [];
    query.subscribe((rows) => first.push(ids(rows)))();
    store.comment.upsert("top", comment("top", { lineNumber: 100 }));
    expect(ids(query.value)).toEqual(["top", "c003"]);
    const second: string[][] = [];
    const stop = query.subscribe((rows) => second.push(ids(rows)));
    store.comment.delete("top");
    store.comment.upsert("c000", comment("c000", { lineNumber: 50 }));
    expect(first).toEqual([["c003", "c002"]]);
    expect(second).toEqual([
      ["top", "c003"],
      ["c003", "c002"],
      ["c000", "c003"],
    ]);
    stop();
    store.comment.delete("c000");
    expect(ids(query.value)).toEqual(["c003", "c002"]);
  });

  it("works inside effects and computeds like any signal", () => {
    const store = storeWithLines(3);
    const query = store.comment.live.orderBy("data.lineNumber");
    const lengths: number[] = [];
    const stop = effect(() => {
      lengths.push(query.value.length);
    });
    store.comment.upsert("x", comment("x"));
    stop();
    expect(lengths).toEqual([3, 4]);
    expect(JSON.stringify(query)).toBe(JSON.stringify(query.value));
    expect(String(query)).toBe("LiveQuery(comment)");
  });

  it("subscribeChanges reports each change to the full result as a diff", () => {
    const store = storeWithLines(3);
    const query = store.comment.live.orderBy("data.lineNumber").limit(1);
    const changes: LiveQueryChange<Comment>[] = [];
    const stop = query.subscribeChanges((change) => changes.push(change));
    const moved = store.comment.upsert("c000", comment("c000", { lineNumber: 10 }));
    store.comment.delete("c001");
    const added = store.comment.upsert("new", comment("new", { lineNumber: 5 }));
    store.review.upsert("r", review("r"));
    expect(changes).toEqual([
      {
        entity: moved,
        previous: expect.objectContaining({ id: "c000" }),
        oldIndex: 0,
        newIndex: 2,
      },
      {
        entity: undefined,
        previous: expect.objectContaining({ id: "c001" }),
        oldIndex: 0,
        newIndex: -1,
      },
      { entity: added, previous: undefined, oldIndex: -1, newIndex: 1 },
    ]);
    stop();
    stop();
    store.comment.delete("new");
    expect(changes).toHaveLength(3);
    expect(ids(query.value)).toEqual(["c002"]);
  });

  it("a query subscribed by a listener during a write holds that write once", () => {
    const store = storeWithLines(3);
    const byLine = store.comment.live.orderBy("data.lineNumber");
    let late: (() => void) | undefined;
    const stop = store.comment.live.subscribeChanges(() => {
      // Subscribed while the write is being applied: its index is built from the store as it
      // is now, so the write must not be applied to it again.
      late ??= byLine.subscribe(() => {});
    });
    store.comment.upsert("c000", comment("c000", { lineNumber: 10 }));
    expect(ids(byLine.value)).toEqual(["c001", "c002", "c000"]);
    store.comment.upsert("c001", comment("c001", { lineNumber: 20 }));
    expect(ids(byLine.value)).toEqual(["c002", "c000", "c001"]);
    stop();
    late?.();
  });

  it("a query unsubscribed by a listener during a write is left alone, with no error", () => {
    const onError = vi.fn();
    const store = KalphiteStore(Entity, { onError });
    store.comment.upsert("a", comment("a", { lineNumber: 1 }));
    const byLine = store.comment.live.orderBy("data.lineNumber");
    let stopLate: (() => void) | undefined;
    const stop = store.comment.live.subscribeChanges(() => {
      stopLate?.();
      stopLate = undefined;
    });
    stopLate = byLine.subscribe(() => {});
    store.comment.upsert("b", comment("b", { lineNumber: 0 }));
    expect(onError).not.toHaveBeenCalled();
    expect(ids(byLine.value)).toEqual(["b", "a"]);
    stop();
  });

  it("a first subscription that threw leaves nothing attached once later ones leave", () => {
    const store = KalphiteStore(Entity, { onError: () => {} });
    store.comment.upsert("bad", comment("bad", { lineNumber: -1 }));
    let calls = 0;
    const query = store.comment.live.where((c) => {
      calls++;
      if (c.data.lineNumber < 0) throw new Error("boom");
      return true;
    });
    expect(() => query.subscribe(() => {})).toThrow("boom");
    store.comment.upsert("bad", comment("bad", { lineNumber: 1 }));
    query.subscribe(() => {})();
    calls = 0;
    store.comment.upsert("x", comment("x"));
    expect(calls).toBe(0);
    expect(ids(query.value)).toEqual(["bad", "x"]);
  });

  it("after a key that threw, the next write brings queries, groups and aggregates back to the rows", () => {
    const errors: unknown[] = [];
    const store = KalphiteStore(Entity, { onError: (error) => errors.push(error) });
    // Throws for a negative line, as a key reading a missing field would.
    const line = (c: Comment) => {
      if (c.data.lineNumber < 0) throw new Error("no line");
      return c.data.lineNumber;
    };
    const byLine = store.comment.live.orderBy(line);
    const groups = store.comment.live.groupBy((c) => (line(c) < 5 ? "low" : "high"));
    const stats = store.comment.live.aggregate(({ count, sum }) => ({
      n: count(),
      lines: sum(line),
    }));
    const stops = [byLine, groups, stats].map((live) => live.subscribe(() => {}));
    store.comment.upsert("a", comment("a", { lineNumber: 1 }));
    store.comment.upsert("a", comment("a", { lineNumber: -1 }));
    store.comment.upsert("a", comment("a", { lineNumber: 7 }));
    store.comment.upsert("b", comment("b", { lineNumber: 2 }));
    expect(errors.length).toBeGreaterThan(0);
    expect(ids(byLine.value)).toEqual(["b", "a"]);
    expect(Object.fromEntries(Object.entries(groups.value).map(([k, v]) => [k, ids(v)]))).toEqual({
      high: ["a"],
      low: ["b"],
    });
    expect(stats.value).toEqual({ n: 2, lines: 9 });
    for (const stop of stops) stop();
  });

  it("a throwing predicate, key or listener goes to onError and does not stop the write", () => {
    const errors: unknown[] = [];
    const store = KalphiteStore(Entity, { onError: (error) => errors.push(error) });
    store.comment.upsert("a", comment("a"));
    const fragile = store.comment.live.where((c) => {
      if (c.data.body === "boom") throw new Error("predicate");
      return true;
    });
    const stopFragile = fragile.subscribe(() => {});
    const throwingListener = store.comment.live.subscribe((rows) => {
      if (rows.length > 1) throw new Error("listener");
    });
    const stopChanges = store.comment.live.subscribeChanges(() => {
      throw new Error("diff listener");
    });
    const healthy = vi.fn();
    const stopHealthy = store.comment.live.subscribe(healthy);

    expect(() => store.comment.upsert("b", comment("b", { body: "boom" }))).not.toThrow();
    expect(store.comment.findById("b")).toBeDefined();
    expect(healthy).toHaveBeenCalledTimes(2);
    expect(errors.map((e) => (e as Error).message).sort()).toEqual([
      "diff listener",
      "listener",
      "predicate",
    ]);
    for (const stop of [stopFragile, throwingListener, stopChanges, stopHealthy]) stop();
  });
});
