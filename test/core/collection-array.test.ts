import { describe, expect, it } from "vitest";
import { KalphiteStore, KalphiteUsageError, TypedCollection } from "../../src/core/index.js";
import { comment, Entity, review } from "../fixtures/schema.js";

function storeWithComments() {
  const store = KalphiteStore(Entity);
  store.comment.upsertMany([
    comment("c", { lineNumber: 30, status: "open" }, 3),
    comment("a", { lineNumber: 10, status: "resolved" }, 2),
    comment("b", { lineNumber: 20, status: "open" }, 2),
  ]);
  store.review.upsert("r1", review("r1"));
  return store;
}

describe("a collection is a real array", () => {
  it("has length, indexes, iteration and spread", () => {
    const store = storeWithComments();
    const comments = store.comment;
    expect(comments.length).toBe(3);
    expect(comments[0]?.id).toBe("c");
    expect(comments[2]?.id).toBe("b");
    expect(comments[3]).toBeUndefined();
    expect(comments.at(-1)?.id).toBe("b");
    expect([...comments].map((c) => c.id)).toEqual(["c", "a", "b"]);
    const ids: string[] = [];
    for (const c of comments) ids.push(c.id);
    expect(ids).toEqual(["c", "a", "b"]);
    expect(Object.keys(comments)).toEqual(["0", "1", "2"]);
  });

  it("is an Array and a TypedCollection", () => {
    const store = storeWithComments();
    expect(Array.isArray(store.comment)).toBe(true);
    expect(store.comment).toBeInstanceOf(Array);
    expect(store.comment).toBeInstanceOf(TypedCollection);
    expect(store.comment.constructor).toBe(TypedCollection);
    expect(store.comment.entityType).toBe("comment");
    expect(store.collection("comment")).toBe(store.comment);
  });

  it("map, filter, slice and concat return plain arrays", () => {
    const store = storeWithComments();
    const mapped = store.comment.map((c) => c.id);
    const filtered = store.comment.filter((c) => c.data.status === "open");
    for (const result of [mapped, filtered, store.comment.slice(1), store.comment.concat([])]) {
      expect(Array.isArray(result)).toBe(true);
      expect(result.constructor).toBe(Array);
      expect(result).not.toBeInstanceOf(TypedCollection);
    }
    expect(mapped).toEqual(["c", "a", "b"]);
    expect(filtered.map((c) => c.id)).toEqual(["c", "b"]);
  });

  it("serializes and compares like an array", () => {
    const store = storeWithComments();
    const expected = [
      comment("c", { lineNumber: 30, status: "open" }, 3),
      comment("a", { lineNumber: 10, status: "resolved" }, 2),
      comment("b", { lineNumber: 20, status: "open" }, 2),
    ];
    expect(JSON.parse(JSON.stringify(store.comment))).toEqual(expected);
    expect(store.comment).toEqual(expected);
    expect(JSON.stringify(store.review)).toBe(JSON.stringify([review("r1")]));
  });

  it("shows every write on the next read", () => {
    const store = storeWithComments();
    const comments = store.comment;
    store.comment.upsert("d", comment("d"));
    store.comment.delete("c");
    expect(comments.length).toBe(3);
    expect(comments.map((c) => c.id)).toEqual(["a", "b", "d"]);
  });

  it("an unknown type is an empty collection", () => {
    const store = storeWithComments();
    const unknown = (store as unknown as Record<string, TypedCollection>).nosuchtype!;
    expect(unknown.length).toBe(0);
    expect([...unknown]).toEqual([]);
  });

  it("refuses to be changed in place", () => {
    const store = storeWithComments();
    const comments = store.comment as unknown as Comment[] & Record<string, any>;
    type Comment = ReturnType<typeof comment>;
    const attempts: (() => unknown)[] = [
      () => comments.push(comment("x")),
      () => comments.pop(),
      () => comments.shift(),
      () => comments.unshift(comment("x")),
      () => comments.splice(0, 1),
      () => comments.sort(),
      () => comments.reverse(),
      () => comments.fill(comment("x")),
      () => comments.copyWithin(0, 1),
      () => {
        comments[0] = comment("x");
      },
      () => {
        comments.length = 0;
      },
      () => delete comments[0],
      () => Object.defineProperty(comments, "0", { value: 1 }),
      () => Object.freeze(comments),
    ];
    for (const attempt of attempts) expect(attempt).toThrow(KalphiteUsageError);
    expect(store.comment.map((c) => c.id)).toEqual(["c", "a", "b"]);
    // A copy is an ordinary array.
    expect([...store.comment].sort((x, y) => x.id.localeCompare(y.id)).map((c) => c.id)).toEqual([
      "a",
      "b",
      "c",
    ]);
  });
});

describe("collection queries", () => {
  it("where filters in collection order", () => {
    const store = storeWithComments();
    const far = store.comment.where((c) => c.data.lineNumber > 15);
    expect(far.map((c) => c.id)).toEqual(["c", "b"]);
    expect(Array.isArray(far)).toBe(true);
    expect(store.comment.where(() => false)).toEqual([]);
  });

  it("orderBy sorts by a function or a dotted path, ascending or descending", () => {
    const store = storeWithComments();
    const ids = (rows: { id: string }[]) => rows.map((c) => c.id);
    expect(ids(store.comment.orderBy((c) => c.data.lineNumber))).toEqual(["a", "b", "c"]);
    expect(ids(store.comment.orderBy((c) => c.data.lineNumber, "desc"))).toEqual(["c", "b", "a"]);
    expect(ids(store.comment.orderBy("data.lineNumber"))).toEqual(["a", "b", "c"]);
    expect(ids(store.comment.orderBy("data.lineNumber", "desc"))).toEqual(["c", "b", "a"]);
    expect(ids(store.comment.orderBy("id"))).toEqual(["a", "b", "c"]);
  });

  it("orderBy breaks ties by id, in either direction", () => {
    const store = storeWithComments();
    const ids = (rows: { id: string }[]) => rows.map((c) => c.id);
    expect(ids(store.comment.orderBy("updatedAt"))).toEqual(["a", "b", "c"]);
    expect(ids(store.comment.orderBy("updatedAt", "desc"))).toEqual(["c", "a", "b"]);
    expect(ids(store.comment.orderBy("data.status"))).toEqual(["b", "c", "a"]);
  });

  it("orderBy rejects an unknown direction", () => {
    const store = storeWithComments();
    expect(() => store.comment.orderBy("updatedAt", "down" as never)).toThrow(KalphiteUsageError);
  });

  it("where, orderBy and groupBy refuse what is not a function or a path, with a typed error", () => {
    const store = storeWithComments();
    expect(() => store.comment.where(5 as never)).toThrow(KalphiteUsageError);
    expect(() => store.comment.orderBy(5 as never)).toThrow(KalphiteUsageError);
    expect(() => store.comment.groupBy(null as never)).toThrow(KalphiteUsageError);
    expect(() => store.comment.live.orderBy({} as never)).toThrow(KalphiteUsageError);
  });

  it("orderBy does not change the collection", () => {
    const store = storeWithComments();
    store.comment.orderBy("data.lineNumber");
    expect(store.comment.map((c) => c.id)).toEqual(["c", "a", "b"]);
  });

  it("groupBy groups by a function or a dotted path, keeping collection order", () => {
    const store = storeWithComments();
    const byStatus = store.comment.groupBy((c) => c.data.status);
    expect(byStatus.open?.map((c) => c.id)).toEqual(["c", "b"]);
    expect(byStatus.resolved?.map((c) => c.id)).toEqual(["a"]);
    expect(Object.keys(byStatus)).toEqual(["open", "resolved"]);
    expect(store.comment.groupBy("data.status")).toEqual(byStatus);
  });

  it("groupBy accepts any key, including names of Object.prototype", () => {
    const store = KalphiteStore(Entity);
    store.comment.upsertMany(
      ["constructor", "__proto__", "toString", "hasOwnProperty"].map((body, i) =>
        comment(`c${i}`, { body }),
      ),
    );
    const byBody = store.comment.groupBy((c) => c.data.body);
    expect(Object.keys(byBody).sort()).toEqual(
      ["__proto__", "constructor", "hasOwnProperty", "toString"].sort(),
    );
    expect(Object.getOwnPropertyDescriptor(byBody, "constructor")?.value).toEqual([
      store.comment.findById("c0"),
    ]);
    expect(Object.getOwnPropertyDescriptor(byBody, "__proto__")?.value).toHaveLength(1);
  });
});
