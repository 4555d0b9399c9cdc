// Writes made from inside listeners (a change listener, a subscriber, a live query's
// subscribeChanges): what every later listener and every live query sees must equal the store.
import { effect, signal } from "@preact/signals-core";
import { describe, expect, it } from "vitest";
import { KalphiteStore, type StoreChange } from "../../src/core/index.js";
import { type Comment, comment, Entity, type Review } from "../fixtures/schema.js";

type Change = StoreChange<Comment | Review>;

function storeWithErrors() {
  const errors: unknown[] = [];
  const store = KalphiteStore(Entity, { onError: (error) => errors.push(error) });
  return { store, errors };
}

/** A listener that moves every comment on a negative line to the positive one. */
function normalizeLines(store: KalphiteStore<Comment | Review>) {
  return (entity: Comment | undefined) => {
    if (entity !== undefined && entity.data.lineNumber < 0) {
      store.comment.upsert(entity.id, comment(entity.id, { lineNumber: -entity.data.lineNumber }));
    }
  };
}

describe("a write made by a change listener", () => {
  it("reaches every later listener after the change that caused it", () => {
    const { store, errors } = storeWithErrors();
    const normalize = normalizeLines(store);
    store.onChange((change) => {
      if (change.operation === "upsert") normalize(change.entity as Comment);
    });
    // A later listener that keeps the last change per entity, as the flush engine and sync do.
    const lines: number[] = [];
    const last = new Map<string, Change>();
    store.onChange((change) => {
      lines.push((change.entity as Comment).data.lineNumber);
      last.set(change.entityId, change);
    });
    store.comment.upsert("c1", comment("c1", { lineNumber: -7 }));
    expect(store.comment.findById("c1")?.data.lineNumber).toBe(7);
    expect(lines).toEqual([-7, 7]);
    expect(last.get("c1")?.entity).toBe(store.comment.findById("c1"));
    expect(errors).toEqual([]);
  });

  it("reaches subscribers in the order the changes were made", () => {
    const { store } = storeWithErrors();
    const normalize = normalizeLines(store);
    store.onChange((change) => {
      if (change.operation === "upsert") normalize(change.entity as Comment);
    });
    const batches: number[][] = [];
    store.subscribe((changes) =>
      batches.push(changes.map((change) => (change.entity as Comment).data.lineNumber)),
    );
    store.comment.upsert("c1", comment("c1", { lineNumber: -3 }));
    expect(batches).toEqual([[-3, 3]]);
  });
});

describe("a write made by a subscriber", () => {
  it("reaches every later subscriber after the batch that caused it", () => {
    const { store } = storeWithErrors();
    const normalize = normalizeLines(store);
    store.subscribe((changes) => {
      for (const change of changes) normalize(change.entity as Comment | undefined);
    });
    const batches: number[][] = [];
    store.subscribe((changes) =>
      batches.push(changes.map((change) => (change.entity as Comment).data.lineNumber)),
    );
    store.comment.upsert("c1", comment("c1", { lineNumber: -1 }));
    expect(store.comment.findById("c1")?.data.lineNumber).toBe(1);
    expect(batches).toEqual([[-1], [1]]);
  });
});

describe("a write made by a live query's listener", () => {
  it("reaches the queries after it once they have the write that caused it", () => {
    const { store, errors } = storeWithErrors();
    const normalize = normalizeLines(store);
    const stopNormalizer = store.comment.live.subscribeChanges((change) =>
      normalize(change.entity),
    );
    const byLine = store.comment.live.orderBy("data.lineNumber");
    const stopView = byLine.subscribe(() => {});
    const lines: number[] = [];
    store.onChange((change) => lines.push((change.entity as Comment).data.lineNumber));
    store.comment.upsert("c1", comment("c1", { lineNumber: 5 }));
    store.comment.upsert("c1", comment("c1", { lineNumber: -3 }));
    expect(byLine.value).toEqual([store.comment.findById("c1")]);
    expect(byLine.total).toBe(1);
    expect(store.comment.findById("c1")?.data.lineNumber).toBe(3);
    // The change stream ends on what the store holds.
    expect(lines).toEqual([5, -3, 3]);
    expect(errors).toEqual([]);
    stopView();
    stopNormalizer();
  });
});

describe("a query subscribed again by a listener during a write", () => {
  it("holds the row once", () => {
    const { store, errors } = storeWithErrors();
    const byLine = store.comment.live.orderBy("data.lineNumber");
    let stopByLine = () => {};
    const stopFirst = store.comment.live.subscribeChanges(() => {
      // A controller that subscribes afresh on every change.
      stopByLine();
      stopByLine = byLine.subscribe(() => {});
    });
    stopByLine = byLine.subscribe(() => {});
    store.comment.upsert("c1", comment("c1"));
    expect(byLine.value).toEqual([store.comment.findById("c1")]);
    expect(byLine.total).toBe(1);
    expect(errors).toEqual([]);
    stopFirst();
    stopByLine();
  });
});

describe("a write made in an effect", () => {
  it("does not make the effect depend on what live queries and listeners read", () => {
    const { store } = storeWithErrors();
    const flag = signal(0);
    const stops = [
      store.comment.live.where(() => flag.value >= 0).subscribe(() => {}),
      store.comment.live.orderBy(() => flag.value).subscribe(() => {}),
      store.onChange(() => flag.value),
      store.subscribe(() => flag.value),
    ];
    const body = signal("hello");
    let runs = 0;
    const dispose = effect(() => {
      runs++;
      store.comment.upsert("c1", comment("c1", { body: body.value }));
    });
    flag.value++;
    expect(runs).toBe(1);
    body.value = "again";
    expect(runs).toBe(2);
    dispose();
    for (const stop of stops) stop();
  });
});
