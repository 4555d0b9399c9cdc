// isRecord, the one "is this a JSON object" check of the protocol, and the checks built on it.
import { describe, expect, it } from "vitest";
import { KalphiteValidationError } from "../../src/core/index.js";
import { isRecord, parseClientMessage } from "../../src/protocol/messages.js";
import { mergeFields } from "../../src/server/conflict.js";
import { entityValidator } from "../../src/server/index.js";
import { comment } from "../fixtures/schema.js";

describe("isRecord", () => {
  it("is true for objects only: not null, arrays or primitives", () => {
    expect(isRecord({})).toBe(true);
    expect(isRecord({ a: 1 })).toBe(true);
    expect(isRecord(Object.create(null))).toBe(true);
    for (const value of [null, undefined, [], [1], "x", 1, true])
      expect(isRecord(value), JSON.stringify(value)).toBe(false);
  });

  it("the parser refuses an array payload or entity with a message that says so", () => {
    const message = (payload: unknown) =>
      JSON.stringify({ type: "change", payload, timestamp: 1, userId: "ann", messageId: "m1" });
    expect(parseClientMessage(message([]))).toMatchObject({
      ok: false,
      code: "invalid-message",
      error: expect.stringMatching(/needs an object "payload"/),
    });
    const change = { operation: "upsert", entityType: "comment", entityId: "c1", vector: {} };
    expect(parseClientMessage(message({ ...change, entity: [] }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/needs change.payload.entity \(an object\)/),
    });
  });

  it("the server's schemaless validator refuses non-objects with a typed error", () => {
    const validate = entityValidator();
    for (const [value, got] of [
      [[], "an array"],
      [null, "null"],
      ["c1", "string"],
    ] as const) {
      expect(() => validate(value, "comment", "c1")).toThrow(KalphiteValidationError);
      expect(() => validate(value, "comment", "c1")).toThrow(`must be a JSON object, not ${got}`);
    }
    expect(validate(comment("c1"), "comment", "c1")).toEqual(comment("c1"));
  });

  it("a field merge does not merge array data: the newer entity wins whole", () => {
    const older = { ...comment("c1"), data: ["a"] } as never;
    const newer = { ...comment("c1", {}, 2), data: { body: "b" } } as never;
    expect(mergeFields(older, newer, ["body"])).toBe(newer);
    expect(mergeFields(newer, older, ["body"])).toBe(newer);
  });
});
