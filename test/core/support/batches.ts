import fc from "fast-check";

/** A step of the property tests that applies up to `maxLength` writes in one `store.batch`. */
export function batchOf<W>(
  write: fc.Arbitrary<W>,
  maxLength: number,
): fc.Arbitrary<{ kind: "batch"; writes: W[] }> {
  return fc.record({
    kind: fc.constant("batch" as const),
    writes: fc.array(write, { maxLength }),
  });
}
