import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExactSum } from "../../src/core/exact-sum.js";

const values = fc.oneof(
  fc.constantFrom(1e308, -1e308, 1.7e308, 2 ** 996, 1e-300, 5e-324, 0.1, 1, 3),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

describe("an exact running sum", () => {
  it("reads, after any adds and removals, what a fresh sum of the values left reads", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(values, fc.boolean()), { maxLength: 40 }), (steps) => {
        const running = new ExactSum();
        const kept: number[] = [];
        for (const [value, removeOne] of steps) {
          if (removeOne && kept.length > 0) {
            const gone = kept.splice(Math.floor(Math.abs(value) % kept.length), 1)[0]!;
            running.add(-gone);
          } else {
            kept.push(value);
            running.add(value);
          }
          const fresh = new ExactSum();
          for (const v of kept) fresh.add(v);
          expect(running.value).toBe(fresh.value);
          expect(Number.isNaN(running.value)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("is exact where a running total is not, and overflows only while the sum does", () => {
    const sum = new ExactSum();
    for (const v of [1e308, 1e308, 1]) sum.add(v);
    expect(sum.value).toBe(Infinity);
    sum.add(-1e308);
    expect(sum.value).toBe(1e308 + 1);
    sum.add(-1e308);
    expect(sum.value).toBe(1);
  });
});
