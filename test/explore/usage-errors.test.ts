import { describe, expect, it } from "vitest";
import { KalphiteStore, KalphiteUsageError, KalphiteValidationError } from "../../src/index.js";
import { comment, Entity } from "../fixtures/schema.js";

describe("misuse is refused with a typed error, and changes nothing", () => {
  it("bad live-query arguments", () => {
    const store = KalphiteStore(Entity);
    const q = store.comment.live.orderBy("updatedAt");
    for (const bad of [
      () => q.limit(-1),
      () => q.limit(1.5),
      () => q.limit(Number.NaN),
      () => q.offset(-1),
      () => q.window(-1, 5),
      () => q.window(0, -5),
      () => store.comment.live.orderBy("updatedAt", "up" as never),
      () => store.comment.live.where("x" as never),
      () => store.comment.live.limit(2).groupBy("data.status"),
      () => store.comment.live.join(store.comment, { on: "id" } as never),
      () => store.comment.live.join({} as never, { on: "id" } as never),
    ]) {
      let error: unknown;
      try {
        bad();
      } catch (e) {
        error = e;
      }
      expect(error, String(bad)).toBeInstanceOf(KalphiteUsageError);
    }
  });

  it("bad writes", () => {
    const store = KalphiteStore(Entity);
    store.comment.upsert("a", comment("a"));
    const attempts: [() => unknown, typeof KalphiteUsageError | typeof KalphiteValidationError][] =
      [
        [() => store.comment.upsert("", comment("")), KalphiteValidationError],
        [() => store.comment.upsert("b", comment("c")), KalphiteValidationError],
        [
          () => store.comment.upsert("a", { ...comment("a"), type: "review" } as never),
          KalphiteValidationError,
        ],
        [
          () =>
            store.comment.upsertMany([comment("x"), { ...comment("y"), updatedAt: "no" } as never]),
          KalphiteValidationError,
        ],
        [() => store.comment.upsertMany("a" as never), KalphiteValidationError],
        [
          () => store.comment.upsert("a", comment("a"), { origin: "server" as never }),
          KalphiteUsageError,
        ],
        [() => store.comment.delete("a", { origin: "nope" as never }), KalphiteUsageError],
        [
          () =>
            store.apply(
              [{ operation: "upsert", entityType: "comment", entityId: "z", entity: comment("q") }],
              "remote",
            ),
          KalphiteValidationError,
        ],
        [
          () =>
            store.apply(
              [{ operation: "move" as never, entityType: "comment", entityId: "a" }],
              "remote",
            ),
          KalphiteValidationError,
        ],
        [() => (store.comment as unknown as unknown[]).push(comment("p")), KalphiteUsageError],
        [
          () => {
            (store as any).comment = [];
          },
          KalphiteUsageError,
        ],
      ];
    for (const [attempt, kind] of attempts) {
      expect(attempt, String(attempt)).toThrow(kind);
    }
    expect(store.comment.map((c) => c.id)).toEqual(["a"]);
    expect(store.comment.findById("a")).toEqual(comment("a"));
  });
});
