import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareKeys } from "../../src/core/compare.js";
import { SortedIndex } from "../../src/core/sorted-index.js";
import { sortedMatches } from "../../src/core/sorted-matches.js";

interface Row {
  id: string;
  key: number | string | undefined;
}

const keyArb = fc.oneof(
  fc.integer({ min: 0, max: 5 }),
  fc.constantFrom("a", "b"),
  fc.constant(undefined),
  fc.constant(Number.NaN),
);
const idArb = fc.integer({ min: 0, max: 40 }).map((n) => `id${n}`);

describe("SortedIndex", () => {
  it("matches a sorted array after any inserts and removes, with tiny chunks", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ id: idArb, key: keyArb, remove: fc.boolean() }), { maxLength: 300 }),
        fc.integer({ min: 0, max: 50 }),
        (descending, chunkSize, steps, loadCount) => {
          const sign = descending ? -1 : 1;
          const order = (a: Row, b: Row) =>
            sign * compareKeys(a.key, b.key) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
          const model = new Map<string, Row>();
          for (let i = 0; i < loadCount; i++) model.set(`id${i}`, { id: `id${i}`, key: i % 3 });
          const loaded = [...model.values()].sort(order);
          const index = new SortedIndex<Row>(descending, chunkSize);
          index.load(
            loaded.map((row) => row.key),
            loaded,
          );
          for (const step of steps) {
            const before = [...model.values()].sort(order);
            const existing = model.get(step.id);
            if (existing) {
              const at = index.remove(existing.key, existing.id, Number.POSITIVE_INFINITY);
              expect(at).toBe(before.indexOf(existing));
              model.delete(step.id);
            } else {
              expect(index.remove(step.key, step.id, Number.POSITIVE_INFINITY)).toBe(-1);
            }
            if (!step.remove) {
              const row = { id: step.id, key: step.key };
              model.set(step.id, row);
              const after = [...model.values()].sort(order);
              const cap = 3;
              const expectedAt = after.indexOf(row);
              expect(index.insert(row.key, row, cap)).toBe(Math.min(expectedAt, cap));
            }
            const expected = [...model.values()].sort(order);
            expect(index.size).toBe(expected.length);
            expect(index.slice(0)).toEqual(expected);
            expect(index.slice(0, 2)).toEqual(expected.slice(0, 2));
            // Positional access (windows) through the chunk-size tree.
            const start = expected.length === 0 ? 0 : (step.id.length * 7) % (expected.length + 1);
            expect(index.slice(start, start + 5)).toEqual(expected.slice(start, start + 5));
            expect(index.slice(start, start + 1)[0]).toBe(expected[start]);
            expect(index.first()?.row).toBe(expected[0]);
            expect(index.last()?.row).toBe(expected[expected.length - 1]);
            const probe = expected[Math.floor(expected.length / 2)];
            if (probe) {
              // An unchanged key: replaced in its slot, at the same position.
              const middle = Math.floor(expected.length / 2);
              expect(index.update(probe.key, probe.key, probe, Number.POSITIVE_INFINITY)).toBe(
                middle,
              );
              expect(index.movedFrom).toBe(middle);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("compareKeys", () => {
  it("orders undefined and null first, then booleans, numbers, strings, dates, others", () => {
    const date = new Date(5);
    // Array.prototype.sort moves undefined to the end without asking the comparator.
    const sorted = [{}, "b", 2, date, null, true, "a", -1, false].sort(compareKeys);
    expect(sorted).toEqual([null, false, true, -1, 2, "a", "b", date, {}]);
    expect(compareKeys(undefined, null)).toBeLessThan(0);
    expect(compareKeys(undefined, -Infinity)).toBeLessThan(0);
  });

  it("is a consistent total order even with NaN and invalid dates", () => {
    const values = [
      Number.NaN,
      1,
      -Infinity,
      Number.POSITIVE_INFINITY,
      0,
      Number.NaN,
      new Date(Number.NaN),
      new Date(1),
      new Date(0),
    ];
    for (const a of values) {
      expect(compareKeys(a, a)).toBe(0);
      for (const b of values) {
        expect(Math.sign(compareKeys(a, b)) + Math.sign(compareKeys(b, a))).toBe(0);
        for (const c of values) {
          if (compareKeys(a, b) <= 0 && compareKeys(b, c) <= 0) {
            expect(compareKeys(a, c)).toBeLessThanOrEqual(0);
          }
        }
      }
    }
    expect(compareKeys(Number.NaN, -Infinity)).toBeLessThan(0);
    expect(compareKeys(Number.NaN, Number.NaN)).toBe(0);
  });

  it("compares strings by code unit, the same on every machine", () => {
    expect(["b", "B", "a", "é", "Z"].sort(compareKeys)).toEqual(["B", "Z", "a", "b", "é"]);
  });
});

describe("sortedMatches", () => {
  it("sorts by (key, id) whatever the keys: packed integers, huge or fractional numbers, mixed", () => {
    const keyArb = fc.oneof(
      fc.integer({ min: -5, max: 5 }),
      fc.constantFrom(-(2 ** 31) + 1, 2 ** 31 - 1, 2 ** 40, 0.5, -0),
      fc.constantFrom("a", undefined),
    );
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.record({ id: fc.string({ maxLength: 3 }), key: keyArb }), { maxLength: 80 }),
        (descending, integersOnly, entries) => {
          const values = new Map<string, { id: string; key: unknown }>();
          for (const { id, key } of entries) {
            values.set(id, { id, key: integersOnly ? (Number.isInteger(key) ? key : 1) : key });
          }
          const sign = descending ? -1 : 1;
          const expected = [...values.values()].sort(
            (a, b) => sign * compareKeys(a.key, b.key) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
          );
          const { rows, keys } = sortedMatches(
            values,
            () => true,
            (row) => row.key,
            descending,
          );
          expect(rows).toEqual(expected);
          expect(keys).toEqual(expected.map((row) => row.key));
        },
      ),
      { numRuns: 300 },
    );
  });
});
