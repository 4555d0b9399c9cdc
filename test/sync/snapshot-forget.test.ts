// A snapshot that no longer holds an entity the store shows deletes it, and the sync state
// forgets its confirmed version together with that deletion (the delta names the entity, so it
// commits with the row's deletion: a crash between them reloads the state before or after).
import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/core/index.js";
import type { DeltaEntity, SyncDelta } from "../../src/sync/index.js";
import { Replica } from "../../src/sync/replica.js";
import { comment, Entity } from "../fixtures/schema.js";

function replicaRecording() {
  const store = KalphiteStore(Entity);
  const recorded: { delta: SyncDelta; entity: DeltaEntity | undefined }[] = [];
  const replica = new Replica({
    store,
    persistence: {
      load: async () => undefined,
      record: (delta, entity) => recorded.push({ delta, entity }),
      flush: async () => {},
    },
    userId: "me",
    resolution: { strategy: "last-write-wins" },
    createId: () => "m1",
    now: () => 0,
    emitChange: () => {},
    emitConflict: () => {},
    emitError: (error) => {
      throw error;
    },
    forget: () => {},
  });
  return { store, replica, recorded };
}

describe("a snapshot that drops an entity", () => {
  it("deletes it from the store and forgets its version with the deletion", () => {
    const { store, replica, recorded } = replicaRecording();
    const version = (id: string, seq: number) => ({
      entityType: "comment",
      entityId: id,
      entity: comment(id),
      vector: { bob: seq },
      seq,
    });
    store.batch(() => replica.applySnapshot([version("a", 1), version("b", 2)], 2));
    expect(store.comment.map((c) => c.id).sort()).toEqual(["a", "b"]);
    recorded.length = 0;

    store.batch(() => replica.applySnapshot([version("a", 1)], 3));

    expect(store.comment.map((c) => c.id)).toEqual(["a"]);
    expect(replica.confirmed("comment", "b")).toBeUndefined();
    const forget = recorded.find((r) => r.delta.kind === "forget-version");
    expect(forget).toEqual({
      delta: { kind: "forget-version", entityType: "comment", entityId: "b" },
      entity: { entityType: "comment", entityId: "b" },
    });
    // The reset goes with the first changed entity, never ahead of every row.
    expect(recorded[0]!.delta.kind).toBe("reset-versions");
    expect(recorded[0]!.entity).toBeDefined();
  });
});
