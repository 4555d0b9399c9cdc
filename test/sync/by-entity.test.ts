// Confirmed versions by entity type and id: no two entities share a slot, whatever they contain.
import { describe, expect, it } from "vitest";
import { ByEntity } from "../../src/sync/by-entity.js";

describe("ByEntity", () => {
  it("keeps each (type, id) apart, even when one's type and id join into the other's", () => {
    const map = new ByEntity<string>();
    map.set("a:b", "c", "first");
    map.set("a", "b:c", "second");
    map.set("a", "b", "third");
    expect(map.get("a:b", "c")).toBe("first");
    expect(map.get("a", "b:c")).toBe("second");
    expect(map.get("a", "b")).toBe("third");
    expect(map.has("a:b", "b:c")).toBe(false);
    expect([...map.values()].sort()).toEqual(["first", "second", "third"]);
  });

  it("replaces, deletes and clears", () => {
    const map = new ByEntity<number>();
    map.set("comment", "c1", 1);
    map.set("comment", "c1", 2);
    expect(map.get("comment", "c1")).toBe(2);
    expect(map.delete("comment", "c1")).toBe(true);
    expect(map.delete("comment", "c1")).toBe(false);
    expect(map.delete("review", "r1")).toBe(false);
    expect(map.get("comment", "c1")).toBeUndefined();
    map.set("review", "r1", 3);
    map.clear();
    expect([...map.values()]).toEqual([]);
    expect(map.has("review", "r1")).toBe(false);
  });
});
