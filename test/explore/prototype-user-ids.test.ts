import { describe, expect, it } from "vitest";
import { dominates, increment, isConcurrent, mergeVectors } from "../../src/protocol/index.js";
import { decideChange } from "../../src/server/conflict.js";
import { comment } from "../fixtures/schema.js";

// User ids are the app's (often user-chosen names): those that are Object.prototype members too.
const NAMES = ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"];

describe("vector clocks of users whose names are Object.prototype members", () => {
  it("increment, merge and compare them like any name", () => {
    for (const user of NAMES) {
      const one = increment({}, user);
      expect(one[user]).toBe(1);
      expect(JSON.parse(JSON.stringify(one))).toEqual(JSON.parse(`{"${user}":1}`));
      expect(increment(one, user)[user]).toBe(2);
      const parsed = JSON.parse(`{"${user}":3}`);
      const merged = mergeVectors({ ann: 1 }, parsed);
      expect(Object.getOwnPropertyDescriptor(merged, user)?.value).toBe(3);
      expect(dominates({}, parsed)).toBe(false);
      expect(dominates(parsed, {})).toBe(true);
      expect(isConcurrent({ ann: 1 }, parsed)).toBe(true);
    }
  });
});

describe("the server's decision on a change by such a user", () => {
  it("counts the writer's edit as a number in the new vector", () => {
    for (const userId of NAMES) {
      const decision = decideChange(
        {
          entity: comment("c1"),
          vector: { ann: 1 },
          timestamp: 1,
          userId: "ann",
          messageId: "m-ann",
        },
        {
          messageId: "m-1",
          userId,
          timestamp: 2,
          operation: "upsert",
          entityType: "comment",
          entityId: "c1",
          entity: comment("c1", {}, 2),
          vector: { ann: 1 },
          strategy: "last-write-wins",
        },
        (entity) => entity,
      );
      if (!decision.accept) throw new Error(decision.message);
      expect(JSON.parse(JSON.stringify(decision.vector))).toEqual(
        JSON.parse(`{"ann":1,"${userId}":1}`),
      );
    }
  });
});
