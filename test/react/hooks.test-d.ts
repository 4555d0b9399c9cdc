import { signal } from "@preact/signals-core";
import { describe, expectTypeOf, it } from "vitest";
import { type JoinRow, KalphiteStore } from "../../src/index.js";
import {
  KalphiteProvider,
  useCollection,
  useEntity,
  useKalphiteContext,
  useKalphiteStore,
  useLiveGroups,
  useLiveQuery,
  useLiveWindow,
  useSignalValue,
  useValue,
} from "../../src/react/index.js";
import { type Comment, Entity, type Review } from "../fixtures/schema.js";

const store = KalphiteStore(Entity);
type AppStore = typeof store;

describe("hook types", () => {
  it("useEntity returns the collection's entity or undefined", () => {
    expectTypeOf(useEntity(store.comment, "c1")).toEqualTypeOf<Comment | undefined>();
    expectTypeOf(useEntity(store.review, undefined)).toEqualTypeOf<Review | undefined>();
    // @ts-expect-error an id is a string
    useEntity(store.comment, 1);
  });

  it("useLiveWindow returns the rows of the window, the total and moveTo", () => {
    const state = useLiveWindow(() => store.comment.live.orderBy("data.lineNumber"), { count: 20 });
    expectTypeOf(state.rows).toEqualTypeOf<Comment[]>();
    expectTypeOf(state.total).toEqualTypeOf<number>();
    expectTypeOf(state.moveTo).toEqualTypeOf<(offset: number, count?: number) => void>();
    // @ts-expect-error count is required
    useLiveWindow(store.comment.live, {});
  });

  it("useLiveGroups returns the groups' rows, keyed by what the key returns", () => {
    const byStatus = useLiveGroups(() => store.comment.live.groupBy((c) => c.data.status));
    expectTypeOf(byStatus.open).toEqualTypeOf<Comment[] | undefined>();
    // @ts-expect-error "closed" is not a status
    byStatus.closed;
    expectTypeOf(useLiveGroups(store.review.live.groupBy("data.title"))).toEqualTypeOf<
      Partial<Record<string, Review[]>>
    >();
  });

  it("useLiveQuery returns rows of the query's entity", () => {
    expectTypeOf(useLiveQuery(store.comment.live.limit(5))).toEqualTypeOf<Comment[]>();
    expectTypeOf(useLiveQuery(() => store.review.live.orderBy("updatedAt"), [])).toEqualTypeOf<
      Review[]
    >();
    expectTypeOf(
      useLiveQuery(() => null as null | ReturnType<typeof store.comment.live.limit>),
    ).toEqualTypeOf<Comment[]>();
    // @ts-expect-error a collection is not a live query
    useLiveQuery(store.comment);
  });

  it("useLiveQuery and useLiveGroups take joined rows", () => {
    type Row = JoinRow<Comment, Review, "review", "inner">;
    const joined = () =>
      store.comment.live.join(store.review, { on: "data.body", equals: "data.title" });
    expectTypeOf(useLiveQuery(joined)).toEqualTypeOf<Row[]>();
    const byReview = useLiveGroups(() => joined().groupBy((row) => row.review.id));
    expectTypeOf(byReview).toEqualTypeOf<Partial<Record<string, Row[]>>>();
  });

  it("useValue returns what its function returns", () => {
    expectTypeOf(useValue(() => store.comment.findById("c1"), [])).toEqualTypeOf<
      Comment | undefined
    >();
    expectTypeOf(useValue(() => store.review.length)).toEqualTypeOf<number>();
    expectTypeOf(
      useValue(() => store.comment.where((c) => c.data.status === "open")),
    ).toEqualTypeOf<Comment[]>();
  });

  it("useSignalValue and useCollection keep their types", () => {
    expectTypeOf(useSignalValue(signal("a"))).toEqualTypeOf<string>();
    expectTypeOf(useSignalValue(store.comment.signal("c1"))).toEqualTypeOf<Comment | undefined>();
    expectTypeOf(useCollection(store.review)).toEqualTypeOf<Review[]>();
  });

  it("the store hooks keep the store's type", () => {
    expectTypeOf(useKalphiteStore(store)).toEqualTypeOf<AppStore>();
    expectTypeOf(useKalphiteStore<AppStore>()).toEqualTypeOf<AppStore>();
    expectTypeOf(useKalphiteContext<AppStore>()).toEqualTypeOf<AppStore>();
    expectTypeOf(useKalphiteStore(store).comment.findById("c1")).toEqualTypeOf<
      Comment | undefined
    >();
    // @ts-expect-error not a type of the schema
    useKalphiteStore(store).note;
    // @ts-expect-error a store is required
    KalphiteProvider({ store: {} });
    KalphiteProvider({ store, children: null });
  });
});
