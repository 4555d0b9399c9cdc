import { effect } from "@preact/signals-core";
import { type } from "arktype";
import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/index.js";
import { comment, Entity, review } from "../fixtures/schema.js";

const Odd = type({ id: "string", type: "'_draft'", updatedAt: "number", data: { n: "number" } })
  .or({ id: "string", type: "'$meta'", updatedAt: "number", data: { n: "number" } })
  .or({ id: "string", type: "'task'", updatedAt: "number", data: { n: "number", tag: "string" } });

describe("unusual ids", () => {
  const ids = [
    "__proto__",
    "constructor",
    "hasOwnProperty",
    "a.b.c",
    " ",
    "ü🎉",
    "0",
    "toString",
    "length",
  ];
  it("stores, finds, orders and deletes them like any id", () => {
    const store = KalphiteStore(Entity);
    for (const id of ids) store.comment.upsert(id, comment(id));
    expect(store.comment.length).toBe(ids.length);
    for (const id of ids) expect(store.comment.findById(id)?.id).toBe(id);
    const live = store.comment.live.orderBy("id");
    const stop = live.subscribe(() => {});
    expect(live.value.map((c) => c.id)).toEqual([...ids].sort());
    expect(store.comment.deleteMany(ids)).toBe(ids.length);
    expect(live.value).toEqual([]);
    stop();
  });
  it("groups by an id-like key without touching prototypes", () => {
    const store = KalphiteStore(Entity);
    const groups = store.comment.live.groupBy((c) => c.data.body);
    const stop = groups.subscribe(() => {});
    store.comment.upsert("a", comment("a", { body: "__proto__" }));
    store.comment.upsert("b", comment("b", { body: "constructor" }));
    expect(
      Object.getOwnPropertyDescriptor(groups.value, "__proto__")?.value.map(
        (c: { id: string }) => c.id,
      ),
    ).toEqual(["a"]);
    expect(Object.keys(groups.value).sort()).toEqual(["__proto__", "constructor"]);
    stop();
  });
});

describe("entity types beyond the fixtures", () => {
  it("keeps types apart", () => {
    const store = KalphiteStore(Odd);
    store.task.upsert("x", { id: "x", type: "task", updatedAt: 1, data: { n: 1, tag: "t" } });
    store
      .collection("_draft")
      .upsert("x", { id: "x", type: "_draft", updatedAt: 1, data: { n: 2 } });
    expect(store.task.findById("x")?.data.n).toBe(1);
    expect(store.collection("_draft").findById("x")?.data.n).toBe(2);
    expect(store.entities()).toHaveLength(2);
    expect(store.entityTypes().sort()).toEqual(["_draft", "task"]);
  });
});

describe("deletes then re-creates", () => {
  it("a limit query sees the re-created row in its place", () => {
    const store = KalphiteStore(Entity);
    for (let i = 0; i < 5; i++) store.comment.upsert(`c${i}`, comment(`c${i}`, { lineNumber: i }));
    const top = store.comment.live.orderBy("data.lineNumber").limit(2);
    const seen: string[][] = [];
    const stop = top.subscribe((rows) => seen.push(rows.map((c) => c.id)));
    store.batch(() => {
      store.comment.delete("c0");
      store.comment.upsert("c0", comment("c0", { lineNumber: 10 }));
      store.comment.delete("c1");
      store.comment.upsert("c1", comment("c1", { lineNumber: -1 }));
    });
    expect(top.value.map((c) => c.id)).toEqual(["c1", "c2"]);
    expect(seen).toEqual([
      ["c0", "c1"],
      ["c1", "c2"],
    ]);
    stop();
  });
  it("the entity signal follows delete and re-create", () => {
    const store = KalphiteStore(Entity);
    const seen: (string | undefined)[] = [];
    const stop = effect(() => {
      seen.push(store.comment.findById("x")?.data.body);
    });
    store.comment.upsert("x", comment("x", { body: "one" }));
    store.comment.delete("x");
    store.comment.upsert("x", comment("x", { body: "two" }));
    expect(seen).toEqual([undefined, "one", undefined, "two"]);
    stop();
  });
});

describe("batches inside batches", () => {
  it("notifies subscribers once, at the outermost end", () => {
    const store = KalphiteStore(Entity);
    const notified: number[] = [];
    store.subscribe((changes) => notified.push(changes.length));
    store.batch(() => {
      store.comment.upsert("a", comment("a"));
      store.batch(() => {
        store.comment.upsert("b", comment("b"));
        store.batch(() => store.review.upsert("r", review("r")));
      });
      expect(notified).toEqual([]);
      store.comment.delete("a");
    });
    expect(notified).toEqual([4]);
  });
  it("an inner batch that throws keeps the outer's later writes and notifies once", () => {
    const store = KalphiteStore(Entity);
    const notified: string[][] = [];
    store.subscribe((changes) => notified.push(changes.map((c) => c.entityId)));
    store.batch(() => {
      store.comment.upsert("a", comment("a"));
      expect(() =>
        store.batch(() => {
          store.comment.upsert("b", comment("b"));
          throw new Error("boom");
        }),
      ).toThrow("boom");
      store.comment.upsert("c", comment("c"));
    });
    expect(notified).toEqual([["a", "b", "c"]]);
  });
  it("a batch that throws still notifies the writes made before the throw", () => {
    const store = KalphiteStore(Entity);
    const notified: string[][] = [];
    store.subscribe((changes) => notified.push(changes.map((c) => c.entityId)));
    expect(() =>
      store.batch(() => {
        store.comment.upsert("a", comment("a"));
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(notified).toEqual([["a"]]);
    store.comment.upsert("b", comment("b"));
    expect(notified).toEqual([["a"], ["b"]]);
  });
});

describe("empty collections", () => {
  it("live operators on nothing", () => {
    const store = KalphiteStore(Entity);
    const agg = store.comment.live.aggregate(({ count, sum, avg, min, maxBy }) => ({
      n: count(),
      s: sum("data.lineNumber"),
      a: avg("data.lineNumber"),
      m: min("data.lineNumber"),
      x: maxBy("updatedAt"),
    }));
    expect(agg.value).toEqual({ n: 0, s: 0, a: undefined, m: undefined, x: undefined });
    const w = store.comment.live.orderBy("updatedAt").window(0, 10);
    expect(w.value).toEqual([]);
    expect(w.total).toBe(0);
    expect(store.comment.live.first().value).toBeUndefined();
    expect(Object.keys(store.comment.live.groupBy("data.status").value)).toEqual([]);
    expect(store.comment.live.join(store.review, { on: "data.body" }).value).toEqual([]);
    expect(store.comment.deleteMany([])).toBe(0);
    expect(store.comment.upsertMany([])).toEqual([]);
  });
});
