import { describe, expect, it } from "vitest";
import type { Entity } from "../../src/index.js";
import { mergeFields } from "../../src/server/conflict.js";

const counts = (json: string, updatedAt: number) =>
  ({ id: "w", type: "counts", updatedAt, data: JSON.parse(json) }) as Entity;

describe("the server's field-level merge of a dictionary entity", () => {
  it("takes a __proto__ key the incoming change added as data", () => {
    const merged = mergeFields(counts('{"cat":1}', 1), counts('{"cat":1,"__proto__":5}', 2), [
      "__proto__",
    ]);
    const data = (merged as unknown as { data: object }).data;
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(data))).toEqual(JSON.parse('{"cat":1,"__proto__":5}'));
  });
});
