import { computed, effect } from "@preact/signals-core";
import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import { countRuns } from "../fixtures/effects.js";
import { comment, Entity, review } from "../fixtures/schema.js";

function seededStore() {
  const store = KalphiteStore(Entity);
  store.comment.upsertMany([comment("a"), comment("b")]);
  store.review.upsert("r1", review("r1"));
  return store;
}

describe("fine-grained reactivity", () => {
  it("a write to entity A re-runs nothing that read only entity B", () => {
    const store = seededStore();
    const byFindById = countRuns(() => store.comment.findById("b"));
    const bySignal = countRuns(() => store.comment.signal("b").value);
    const byHas = countRuns(() => store.comment.has("b"));
    const byCollection = countRuns(() => store.comment);
    const byLive = countRuns(() => store.comment.live);

    store.comment.upsert("a", comment("a", { body: "edited" }));
    store.comment.upsert("new", comment("new"));
    store.comment.delete("new");
    store.comment.delete("a");

    for (const watcher of [byFindById, bySignal, byHas, byCollection, byLive]) {
      expect(watcher.runs).toBe(1);
      watcher.dispose();
    }
  });

  it("a write to entity B re-runs what read B, once per write", () => {
    const store = seededStore();
    const seen: (string | undefined)[] = [];
    const stop = effect(() => {
      seen.push(store.comment.findById("b")?.data.body);
    });
    store.comment.upsert("b", comment("b", { body: "edited" }));
    store.comment.delete("b");
    store.comment.upsert("b", comment("b", { body: "back" }));
    expect(seen).toEqual(["body of b", "edited", undefined, "back"]);
    stop();
  });

  it("an entity that does not exist yet is watched until it is written", () => {
    const store = seededStore();
    const seen: unknown[] = [];
    const stop = effect(() => {
      seen.push(store.comment.findById("later")?.id);
    });
    store.comment.upsert("other", comment("other"));
    store.comment.upsert("later", comment("later"));
    expect(seen).toEqual([undefined, "later"]);
    stop();
  });

  it("a held entity signal keeps updating after its watchers come and go", () => {
    // React StrictMode mounts, unmounts and remounts with the same signal object.
    const store = seededStore();
    const held = store.comment.signal("x");
    effect(() => {
      held.value;
    })();
    const seen: unknown[] = [];
    const stop = effect(() => {
      seen.push(held.value?.data.body);
    });
    store.comment.upsert("x", comment("x", { body: "one" }));
    store.comment.delete("x");
    expect(seen).toEqual([undefined, "one", undefined]);
    stop();

    // Watched again after a delete, while another signal for the same id was asked for.
    expect(store.comment.signal("x").value).toBeUndefined();
    const again: unknown[] = [];
    const stopAgain = effect(() => {
      again.push(held.value?.data.body);
    });
    store.comment.upsert("x", comment("x", { body: "two" }));
    expect(again).toEqual([undefined, "two"]);
    expect(store.comment.signal("x").value?.data.body).toBe("two");
    expect(held.peek()?.data.body).toBe("two");
    stopAgain();
  });

  it("store.comment.signal(id) is one signal per entity", () => {
    const store = seededStore();
    const stop = effect(() => {
      store.comment.signal("a").value;
    });
    expect(store.comment.signal("a")).toBe(store.comment.signal("a"));
    stop();
  });

  it("reading the collection's contents re-runs on any write to that collection only", () => {
    const store = seededStore();
    const byLength = countRuns(() => store.comment.length);
    const byIndex = countRuns(() => store.comment[0]);
    const byIteration = countRuns(() => [...store.comment]);
    const byWhere = countRuns(() => store.comment.where((c) => c.id === "zzz"));
    const byMap = countRuns(() => store.comment.map((c) => c.id));

    store.review.upsert("r2", review("r2"));
    store.review.delete("r1");
    const watchers = [byLength, byIndex, byIteration, byWhere, byMap];
    for (const watcher of watchers) expect(watcher.runs).toBe(1);

    store.comment.upsert("a", comment("a", { body: "edited" }));
    for (const watcher of watchers) expect(watcher.runs).toBe(2);
    store.comment.upsert("c", comment("c"));
    store.comment.delete("b");
    for (const watcher of watchers) expect(watcher.runs).toBe(4);
    for (const watcher of watchers) watcher.dispose();
  });

  it("an effect that writes to the store depends only on what it read", () => {
    const store = seededStore();
    const live = store.comment.live.orderBy("updatedAt").limit(5);
    const stopLive = live.subscribe(() => {});
    const changes: string[] = [];
    const stopChanges = store.comment.live.subscribeChanges((c) =>
      changes.push(c.entity?.id ?? ""),
    );
    const source = store.comment.signal("a");
    let runs = 0;
    // A derived entity kept up to date from "a": the write must not subscribe the effect to the
    // collection (that used to re-run it on every write and throw "Cycle detected").
    const stop = effect(() => {
      runs++;
      const body = source.value?.data.body ?? "";
      store.review.upsert("summary", review("summary", `a says ${body}`));
      store.comment.upsert("echo", comment("echo", { body }));
    });
    expect(runs).toBe(1);
    store.comment.upsert("b", comment("b", { body: "unrelated" }));
    store.review.upsert("r2", review("r2"));
    expect(runs).toBe(1);
    store.comment.upsert("a", comment("a", { body: "edited" }));
    expect(runs).toBe(2);
    expect(store.review.findById("summary")?.data.title).toBe("a says edited");
    expect(store.comment.findById("echo")?.data.body).toBe("edited");
    expect(changes).toContain("echo");
    stop();
    stopChanges();
    stopLive();
  });

  it("a rejected or empty write re-runs nothing", () => {
    const store = seededStore();
    const byLength = countRuns(() => store.comment.length);
    const byB = countRuns(() => store.comment.findById("b"));
    expect(() => store.comment.upsert("b", { ...comment("b"), updatedAt: "x" } as never)).toThrow();
    expect(store.comment.delete("missing")).toBe(false);
    expect(store.comment.deleteMany([])).toBe(0);
    store.batch(() => {});
    expect(byLength.runs).toBe(1);
    expect(byB.runs).toBe(1);
  });

  it("store.batch gives one effect run and one subscribe notification for many writes", () => {
    const store = seededStore();
    const byLength = countRuns(() => store.comment.length);
    const byA = countRuns(() => store.comment.findById("a"));
    const notifications: number[] = [];
    const stop = store.subscribe((changes) => notifications.push(changes.length));
    store.batch(() => {
      store.comment.upsert("a", comment("a", { body: "1" }));
      store.comment.upsert("a", comment("a", { body: "2" }));
      store.comment.upsert("c", comment("c"));
      store.comment.delete("b");
      store.review.upsert("r2", review("r2"));
      store.batch(() => store.comment.upsert("d", comment("d")));
    });
    expect(byLength.runs).toBe(2);
    expect(byA.runs).toBe(2);
    expect(notifications).toEqual([6]);

    store.comment.upsertMany([comment("e"), comment("f")]);
    store.comment.deleteMany(["e", "f"]);
    expect(byLength.runs).toBe(4);
    expect(notifications).toEqual([6, 2, 2]);
    stop();
  });

  it("store.batch returns the function's result and still notifies if it throws", () => {
    const store = seededStore();
    const notifications: number[] = [];
    store.subscribe((changes) => notifications.push(changes.length));
    expect(store.batch(() => 42)).toBe(42);
    expect(() =>
      store.batch(() => {
        store.comment.upsert("c", comment("c"));
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(store.comment.findById("c")).toBeDefined();
    expect(notifications).toEqual([1]);
  });

  it("store.subscribe is called after every write, and stops when unsubscribed", () => {
    const store = seededStore();
    const calls: string[][] = [];
    const stop = store.subscribe((changes) => calls.push(changes.map((c) => c.entityId)));
    store.comment.upsert("a", comment("a"));
    store.review.delete("r1");
    stop();
    store.comment.upsert("b", comment("b"));
    expect(calls).toEqual([["a"], ["r1"]]);
  });

  it("computed values over an entity recompute only when that entity changes", () => {
    const store = seededStore();
    let computations = 0;
    const body = computed(() => {
      computations++;
      return store.comment.findById("b")?.data.body;
    });
    const watcher = countRuns(() => body.value);
    store.comment.upsert("a", comment("a", { body: "x" }));
    expect(computations).toBe(1);
    store.comment.upsert("b", comment("b", { body: "y" }));
    expect(computations).toBe(2);
    expect(body.value).toBe("y");
    expect(watcher.runs).toBe(2);
    watcher.dispose();
  });
});
