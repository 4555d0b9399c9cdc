import { type } from "arktype";
import { describe, expectTypeOf, it } from "vitest";
import { KalphiteStore, type TypedCollection } from "../../src/index.js";

const Odd = type({ id: "string", type: "'_draft'", updatedAt: "number" })
  .or({ id: "string", type: "'$meta'", updatedAt: "number" })
  .or({ id: "string", type: "'entities'", updatedAt: "number" })
  .or({ id: "string", type: "'task'", updatedAt: "number" });
type Odd = typeof Odd.infer;

describe("type names store.<name> does not reach", () => {
  const store = KalphiteStore(Odd);
  it("types only the names the store hands out as collections", () => {
    expectTypeOf(store.task).toEqualTypeOf<TypedCollection<Extract<Odd, { type: "task" }>>>();
    // At run time `store._draft` and `store.$meta` are undefined, and `store.entities` is the method.
    // @ts-expect-error: reached with store.collection("_draft")
    store._draft;
    // @ts-expect-error: reached with store.collection("$meta")
    store.$meta;
    expectTypeOf(store.entities).toEqualTypeOf<() => Odd[]>();
    expectTypeOf(store.collection("_draft")).toEqualTypeOf<
      TypedCollection<Extract<Odd, { type: "_draft" }>>
    >();
  });
});
