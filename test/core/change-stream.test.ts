import { describe, expect, it, vi } from "vitest";
import { KalphiteStore, KalphiteValidationError, type StoreChange } from "../../src/core/index.js";
import { countRuns } from "../fixtures/effects.js";
import { type Comment, comment, Entity, type Review, review } from "../fixtures/schema.js";

function recordingStore() {
  const errors: unknown[] = [];
  const store = KalphiteStore(Entity, { onError: (error) => errors.push(error) });
  const changes: StoreChange<Comment | Review>[] = [];
  store.onChange((change) => changes.push(change));
  return { store, changes, errors };
}

describe("the origin-tagged change stream", () => {
  it("reports local writes with the entity and what it replaced", () => {
    const { store, changes } = recordingStore();
    const first = store.comment.upsert("c1", comment("c1"));
    const second = store.comment.upsert("c1", comment("c1", { body: "edited" }, 2));
    store.comment.delete("c1");
    store.comment.delete("c1"); // nothing to delete: no change
    expect(changes).toEqual([
      {
        operation: "upsert",
        entityType: "comment",
        entityId: "c1",
        entity: first,
        previous: undefined,
        origin: "local",
      },
      {
        operation: "upsert",
        entityType: "comment",
        entityId: "c1",
        entity: second,
        previous: first,
        origin: "local",
      },
      {
        operation: "delete",
        entityType: "comment",
        entityId: "c1",
        previous: second,
        origin: "local",
      },
    ]);
    expect(changes[0]!.entity).toBe(first);
    expect(changes[2]).not.toHaveProperty("entity");
  });

  it("carries the origin given to a write", () => {
    const { store, changes } = recordingStore();
    store.comment.upsert("c1", comment("c1"), { origin: "remote" });
    store.comment.upsertMany([comment("c2")], { origin: "hydrate" });
    store.comment.delete("c1", { origin: "remote" });
    store.comment.deleteMany(["c2"], { origin: "hydrate" });
    expect(changes.map((c) => [c.operation, c.entityId, c.origin])).toEqual([
      ["upsert", "c1", "remote"],
      ["upsert", "c2", "hydrate"],
      ["delete", "c1", "remote"],
      ["delete", "c2", "hydrate"],
    ]);
  });

  it("is synchronous: a listener sees the store already changed", () => {
    const { store } = recordingStore();
    const seen: unknown[] = [];
    store.onChange((change) => seen.push(store.comment.findById(change.entityId)?.data.body));
    store.comment.upsert("c1", comment("c1", { body: "now" }));
    expect(seen).toEqual(["now"]);
  });

  it("is synchronous for every entity of upsertMany, in the collection too", () => {
    const { store } = recordingStore();
    store.comment.upsert("c0", comment("c0"));
    const seen: string[] = [];
    store.onChange((change) =>
      seen.push(`${change.entityId}:${store.comment.length}:${store.comment.map((c) => c.id)}`),
    );
    store.comment.upsertMany([comment("c1"), comment("c2")]);
    expect(seen).toEqual(["c1:2:c0,c1", "c2:3:c0,c1,c2"]);
  });

  it("upsertMany with nobody listening changes the collection once, with every entity", () => {
    const store = KalphiteStore(Entity);
    const lengths: number[] = [];
    const watcher = countRuns(() => lengths.push(store.comment.length));
    store.comment.upsertMany([comment("c1"), comment("c2"), comment("c3")]);
    store.comment.upsertMany([]);
    expect(watcher.runs).toBe(2);
    expect(lengths).toEqual([0, 3]);
    expect(store.comment.findById("c2")?.id).toBe("c2");
    watcher.dispose();
  });

  it("stops calling a listener once unsubscribed", () => {
    const { store } = recordingStore();
    const listener = vi.fn();
    const stop = store.onChange(listener);
    store.comment.upsert("c1", comment("c1"));
    stop();
    store.comment.upsert("c2", comment("c2"));
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it("routes throwing listeners to onError without breaking the write or other listeners", () => {
    const { store, changes, errors } = recordingStore();
    store.onChange(() => {
      throw new Error("change listener");
    });
    store.subscribe(() => {
      throw new Error("subscriber");
    });
    const after = vi.fn();
    store.onChange(after);
    expect(() => store.comment.upsert("c1", comment("c1"))).not.toThrow();
    expect(store.comment.findById("c1")).toBeDefined();
    expect(changes).toHaveLength(1);
    expect(after).toHaveBeenCalledTimes(1);
    expect(errors.map((e) => (e as Error).message)).toEqual(["change listener", "subscriber"]);
  });
});

describe("store.apply", () => {
  it("applies upserts and deletes with the given origin, as one batch", () => {
    const { store, changes } = recordingStore();
    store.comment.upsert("old", comment("old"));
    changes.length = 0;
    const byLength = countRuns(() => store.comment.length);
    const notifications: number[] = [];
    store.subscribe((batch) => notifications.push(batch.length));
    const applied = store.apply(
      [
        { operation: "upsert", entityType: "comment", entityId: "c1", entity: comment("c1") },
        { operation: "upsert", entityType: "review", entityId: "r1", entity: review("r1") },
        { operation: "delete", entityType: "comment", entityId: "old" },
        { operation: "delete", entityType: "comment", entityId: "never-existed" },
      ],
      "hydrate",
    );
    expect(applied.map((c) => [c.operation, c.entityType, c.entityId, c.origin])).toEqual([
      ["upsert", "comment", "c1", "hydrate"],
      ["upsert", "review", "r1", "hydrate"],
      ["delete", "comment", "old", "hydrate"],
    ]);
    expect(changes).toEqual(applied);
    expect(store.comment.map((c) => c.id)).toEqual(["c1"]);
    expect(store.review.findById("r1")).toEqual(review("r1"));
    expect(byLength.runs).toBe(2);
    expect(notifications).toEqual([3]);
  });

  it("is all-or-nothing: one invalid change applies none", () => {
    const { store, changes } = recordingStore();
    store.comment.upsert("c1", comment("c1"));
    changes.length = 0;
    const byLength = countRuns(() => store.comment.length);
    const attempts = [
      [
        { operation: "delete", entityType: "comment", entityId: "c1" },
        {
          operation: "upsert",
          entityType: "comment",
          entityId: "c2",
          entity: { ...comment("c2"), data: {} },
        },
      ],
      [{ operation: "upsert", entityType: "review", entityId: "c3", entity: comment("c3") }],
      [{ operation: "upsert", entityType: "comment", entityId: "other", entity: comment("c4") }],
      [{ operation: "replace", entityType: "comment", entityId: "c1" }],
    ] as const;
    for (const attempt of attempts) {
      expect(() => store.apply(attempt as never, "remote")).toThrow(KalphiteValidationError);
    }
    expect(store.comment.map((c) => c.id)).toEqual(["c1"]);
    expect(changes).toEqual([]);
    expect(byLength.runs).toBe(1);
  });

  it("rejects an unknown origin", () => {
    const { store } = recordingStore();
    expect(() => store.apply([], "server" as never)).toThrow(/origin/);
    expect(() =>
      store.comment.upsert("c1", comment("c1"), { origin: "elsewhere" as never }),
    ).toThrow(/origin/);
    expect(store.comment.length).toBe(0);
  });

  it("rejects a malformed change with a typed error and applies none of the batch", () => {
    const { store, changes } = recordingStore();
    store.comment.upsert("c1", comment("c1"));
    changes.length = 0;
    const good = { operation: "delete" as const, entityType: "comment", entityId: "c1" };
    for (const bad of [
      null,
      "delete",
      { operation: "delete", entityId: "c1" },
      { operation: "delete", entityType: "comment", entityId: "" },
      { operation: "upsert", entityType: "", entityId: "c2", entity: comment("c2") },
    ]) {
      expect(() => store.apply([good, bad as never], "remote")).toThrow(KalphiteValidationError);
    }
    expect(store.comment.findById("c1")?.id).toBe("c1");
    expect(changes).toEqual([]);
  });

  it("keeps its own copy of applied entities", () => {
    const { store } = recordingStore();
    const incoming = comment("c1", { body: "original" });
    store.apply(
      [{ operation: "upsert", entityType: "comment", entityId: "c1", entity: incoming }],
      "remote",
    );
    incoming.data.body = "mutated";
    expect(store.comment.findById("c1")?.data.body).toBe("original");
  });
});
