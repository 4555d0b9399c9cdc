import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entityKey } from "../../src/core/entity-key.js";

// Characters that could act as a separator, digits that could pass for a length, and letters.
const part = fc.string({
  unit: fc.constantFrom("a", "b", "1", ":", "\u0000", "\u001f"),
  maxLength: 6,
});

describe("entityKey", () => {
  it("gives two (type, id) pairs the same key only when they are the same pair", () => {
    fc.assert(
      fc.property(part, part, part, part, (t1, i1, t2, i2) => {
        expect(entityKey(t1, i1) === entityKey(t2, i2)).toBe(t1 === t2 && i1 === i2);
      }),
      { numRuns: 5000 },
    );
    expect(entityKey("a\u0000b", "c")).not.toBe(entityKey("a", "b\u0000c"));
    expect(entityKey("a:b", "c")).not.toBe(entityKey("a", "b:c"));
  });
});
