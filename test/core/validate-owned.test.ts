// A row nothing else holds (just parsed from the database) is validated and frozen in place; the
// checks are those of a copy, and a value that is frozen already is copied instead.
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { describe, expect, it } from "vitest";
import { KalphiteValidationError } from "../../src/core/index.js";
import { isValidated, validateEntity } from "../../src/core/schema.js";

/** A schema that passes its input through, as a loose schema would. */
const passthrough: StandardSchemaV1<
  unknown,
  { id: string; type: "note"; updatedAt: number; data: unknown }
> = {
  "~standard": { version: 1, vendor: "test", validate: (value) => ({ value: value as never }) },
};

const row = () => ({
  id: "n1",
  type: "note" as const,
  updatedAt: 1,
  data: { tags: ["a", "b"], nested: { x: 1 } },
});

describe("validateEntity on an owned row", () => {
  it("freezes the row where it is, deeply, and marks it validated", () => {
    const parsed = row();
    const stored = validateEntity(passthrough, parsed, "note", "n1", true);
    expect(stored).toBe(parsed);
    expect(Object.isFrozen(stored.data)).toBe(true);
    expect(Object.isFrozen((stored.data as { tags: string[] }).tags)).toBe(true);
    expect(isValidated(passthrough, stored)).toBe(true);
  });

  it("copies a row that is frozen already, and still marks the copy", () => {
    const frozen = Object.freeze(row());
    const stored = validateEntity(passthrough, frozen, "note", "n1", true);
    expect(stored).not.toBe(frozen);
    expect(stored).toEqual(frozen);
    expect(isValidated(passthrough, stored)).toBe(true);
  });

  it("refuses a string PostgreSQL cannot store, as a copy would", () => {
    const parsed = { ...row(), data: { tags: ["ok", "bad\u0000"] } };
    expect(() => validateEntity(passthrough, parsed, "note", "n1", true)).toThrow(
      KalphiteValidationError,
    );
  });
});
