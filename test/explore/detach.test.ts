import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/index.js";
import { comment, Entity, review } from "../fixtures/schema.js";

// A query nobody subscribes to any more must cost nothing per write: its predicate is not called.
describe("live queries detach when their last subscriber leaves", () => {
  const shapes = {
    where: (store: ReturnType<typeof KalphiteStore<typeof Entity>>, p: (c: any) => boolean) =>
      store.comment.live.where(p),
    limit: (store: any, p: any) => store.comment.live.where(p).orderBy("updatedAt").limit(2),
    window: (store: any, p: any) => store.comment.live.where(p).orderBy("updatedAt").window(0, 2),
    first: (store: any, p: any) => store.comment.live.where(p).orderBy("updatedAt").first(),
    groupBy: (store: any, p: any) => store.comment.live.where(p).groupBy("data.status"),
    aggregate: (store: any, p: any) =>
      store.comment.live.where(p).aggregate(({ count }: any) => ({ n: count() })),
    groupAggregate: (store: any, p: any) =>
      store.comment.live
        .where(p)
        .groupBy("data.status")
        .aggregate(({ count }: any) => ({ n: count() })),
    join: (store: any, p: any) =>
      store.comment.live.where(p).join(store.review, { on: "data.body" }),
    joinGroup: (store: any, p: any) =>
      store.comment.live.where(p).join(store.review, { on: "data.body" }).groupBy("review.id"),
  };
  for (const [name, make] of Object.entries(shapes)) {
    it(name, () => {
      const store = KalphiteStore(Entity);
      let calls = 0;
      const query = make(store, () => {
        calls++;
        return true;
      });
      const stop = query.subscribe(() => {});
      store.comment.upsert("a", comment("a", { body: "r" }));
      store.review.upsert("r", review("r"));
      expect(calls).toBeGreaterThan(0);
      stop();
      // The group signal of a grouped aggregate, subscribed and left too.
      if (name === "groupAggregate") query.group("open").subscribe(() => {})();
      calls = 0;
      store.comment.upsert("b", comment("b", { body: "r" }));
      store.comment.delete("a");
      expect(calls).toBe(0);
    });
  }
});
