import type { ReadonlySignal } from "@preact/signals-core";
import { describe, expectTypeOf, it } from "vitest";
import {
  KalphiteStore,
  type LiveQuery,
  type StoreChange,
  type TypedCollection,
} from "../../src/core/index.js";
import { type Comment, comment, Entity, type Review } from "../fixtures/schema.js";
import { ZodEntity } from "../fixtures/zod-schema.js";

const store = KalphiteStore(Entity);

describe("store types", () => {
  it("types each collection from the schema", () => {
    expectTypeOf(store.comment).toEqualTypeOf<TypedCollection<Comment>>();
    expectTypeOf(store.review).toEqualTypeOf<TypedCollection<Review>>();
    expectTypeOf(store.comment[0]).toEqualTypeOf<Comment | undefined>();
    expectTypeOf(store.comment.findById("c1")).toEqualTypeOf<Comment | undefined>();
    expectTypeOf(store.comment.signal("c1")).toEqualTypeOf<ReadonlySignal<Comment | undefined>>();
    expectTypeOf(store.comment.where((c) => c.data.lineNumber > 1)).toEqualTypeOf<Comment[]>();
    expectTypeOf(store.comment.orderBy("data.lineNumber", "desc")).toEqualTypeOf<Comment[]>();
    expectTypeOf(store.comment.map((c) => c.data.status)).toEqualTypeOf<("open" | "resolved")[]>();
    expectTypeOf(store.comment.upsert("c1", comment("c1"))).toEqualTypeOf<Comment>();
    expectTypeOf(store.comment.delete("c1")).toEqualTypeOf<boolean>();
    expectTypeOf(store.comment.groupBy((c) => c.data.status)).toEqualTypeOf<
      Partial<Record<"open" | "resolved", Comment[]>>
    >();
  });

  it("works the same with a zod schema", () => {
    const zodStore = KalphiteStore(ZodEntity);
    expectTypeOf(zodStore.comment.findById("c1")).toEqualTypeOf<Comment | undefined>();
    expectTypeOf(zodStore.review).toEqualTypeOf<TypedCollection<Review>>();
  });

  it("rejects unknown collections and wrong-shaped entities", () => {
    // @ts-expect-error: no such type in the schema
    store.nosuchtype;
    // @ts-expect-error: a review is not a comment
    store.comment.upsert("r1", { id: "r1", type: "review", updatedAt: 1, data: { title: "x" } });
    const closed = { body: "b", lineNumber: 1, status: "closed" as const };
    // @ts-expect-error: status is "open" | "resolved"
    store.comment.upsert("c1", { ...comment("c1"), data: closed });
    // @ts-expect-error: data is required
    store.comment.upsert("c1", { id: "c1", type: "comment", updatedAt: 1 });
    // @ts-expect-error: not a path of a comment
    store.comment.orderBy("data.nope");
    // @ts-expect-error: not a direction
    store.comment.orderBy("updatedAt", "down");
  });

  it("types live queries as signals of the entity array", () => {
    const query = store.comment.live
      .where((c) => c.data.status === "open")
      .orderBy("updatedAt")
      .limit(5);
    expectTypeOf(query).toEqualTypeOf<LiveQuery<Comment>>();
    expectTypeOf(query.value).toEqualTypeOf<Comment[]>();
    expectTypeOf(query).toMatchTypeOf<ReadonlySignal<Comment[]>>();
    query.subscribe((rows) => {
      expectTypeOf(rows).toEqualTypeOf<Comment[]>();
    });
  });

  it("types the change stream", () => {
    store.onChange((change) => {
      expectTypeOf(change).toEqualTypeOf<StoreChange<Comment | Review>>();
      expectTypeOf(change.origin).toEqualTypeOf<"local" | "remote" | "hydrate">();
    });
    // @ts-expect-error: not an origin
    store.apply([], "server");
  });
});

describe("generic entity schemas", () => {
  it("types store.collection(name) as the generic entity", () => {
    type Note = { id: string; type: string; updatedAt: number; data: { body: string } };
    const generic = KalphiteStore(
      {} as import("@standard-schema/spec").StandardSchemaV1<unknown, Note>,
    );
    expectTypeOf(generic.collection("note")).toEqualTypeOf<TypedCollection<Note>>();
    expectTypeOf(generic.collection("note").findById("n1")).toEqualTypeOf<Note | undefined>();
  });
});
