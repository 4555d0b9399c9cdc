import { type } from "arktype";
import { describe, expect, it } from "vitest";
import { KalphiteStore } from "../../src/index.js";
import { changesOnCurrent } from "../../src/sync/tabs/forwarded-changes.js";

// A dictionary entity: its data's keys are the app's (words), any of which may be an
// Object.prototype member.
const Words = type({
  id: "string",
  type: "'counts'",
  updatedAt: "number",
  data: "Record<string, number>",
});

describe("a follower's write moved onto the leader's version", () => {
  it("removes a data field named like an Object.prototype member when the follower removed it", () => {
    const store = KalphiteStore(Words);
    const previous = {
      id: "w",
      type: "counts" as const,
      updatedAt: 1,
      data: { toString: 2, constructor: 1, cat: 1 },
    };
    store.counts.upsert("w", previous);
    const next = { id: "w", type: "counts" as const, updatedAt: 2, data: { cat: 1 } };
    const [change] = changesOnCurrent(
      store as never,
      [
        { operation: "upsert", entityType: "counts", entityId: "w", entity: next, previous },
      ] as never,
    );
    expect(change?.entity).toEqual(next);
    expect(() => store.apply([change!], "local")).not.toThrow();
    expect(store.counts.findById("w")?.data).toEqual({ cat: 1 });
  });

  it("writes a data field named __proto__ that the follower added as data", () => {
    const store = KalphiteStore(Words);
    const previous = JSON.parse('{"id":"w","type":"counts","updatedAt":1,"data":{"cat":1}}');
    store.counts.upsert("w", previous);
    const next = JSON.parse(
      '{"id":"w","type":"counts","updatedAt":2,"data":{"__proto__":5,"cat":1,"toString":3}}',
    );
    const [change] = changesOnCurrent(
      store as never,
      [
        { operation: "upsert", entityType: "counts", entityId: "w", entity: next, previous },
      ] as never,
    );
    const data = (change!.entity as { data: object }).data;
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(data, "__proto__")?.value).toBe(5);
    expect(JSON.parse(JSON.stringify(data))).toEqual(
      JSON.parse('{"__proto__":5,"cat":1,"toString":3}'),
    );
  });
});
