// The demo's schema (Valibot, through Standard Schema): what it accepts, and what it refuses with
// the path of the wrong field.
import { KalphiteStore, KalphiteValidationError } from "kalphite";
import { describe, expect, it } from "vitest";
import { type Comment, Entity } from "../../examples/code-review/src/schema.js";

const comment: Comment = {
  id: "c1",
  type: "comment",
  updatedAt: 1,
  data: {
    body: "Check the bound.",
    lineNumber: 3,
    author: "ada",
    status: "open",
    createdAt: 1,
    updatedBy: "ada",
  },
};

type Issue = { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] };

/** Each issue's field path as plain keys (Standard Schema allows a segment as `{ key }`). */
const issues = (value: unknown) => {
  const result = Entity["~standard"].validate(value) as { issues?: readonly Issue[] };
  return (result.issues ?? []).map((issue) => ({
    message: issue.message,
    path: issue.path?.map((segment) => (typeof segment === "object" ? segment.key : segment)),
  }));
};

describe("the code-review demo's schema", () => {
  it("accepts a comment and a review", () => {
    expect(issues(comment)).toEqual([]);
    const review = {
      id: "review:ada",
      type: "review",
      updatedAt: 1,
      data: { author: "ada", verdict: "approve" },
    };
    expect(issues(review)).toEqual([]);
  });

  it("refuses a wrong field with its path, an unknown type, and a missing data", () => {
    expect(issues({ ...comment, data: { ...comment.data, lineNumber: 0 } })).toEqual([
      { message: expect.stringContaining(">=1"), path: ["data", "lineNumber"] },
    ]);
    expect(issues({ ...comment, data: { ...comment.data, lineNumber: 2.5 } })).toEqual([
      { message: expect.stringContaining("integer"), path: ["data", "lineNumber"] },
    ]);
    expect(issues({ ...comment, data: { ...comment.data, status: "done" } })).toEqual([
      { message: expect.stringContaining('"open" | "resolved"'), path: ["data", "status"] },
    ]);
    expect(issues({ ...comment, type: "note" })).toEqual([
      { message: expect.stringContaining('"comment" | "review"'), path: ["type"] },
    ]);
    expect(issues({ id: "x", type: "review", updatedAt: 1 })).toEqual([
      { message: expect.stringContaining(`"data"`), path: ["data"] },
    ]);
    expect(issues(null)).toEqual([{ message: expect.stringContaining("Object"), path: undefined }]);
  });

  it("a store on it refuses a bad write with a KalphiteValidationError and keeps its state", () => {
    const store = KalphiteStore(Entity);
    store.comment.upsert("c1", comment);
    expect(() =>
      store.comment.upsert("c1", { ...comment, data: { ...comment.data, author: 7 as never } }),
    ).toThrow(KalphiteValidationError);
    expect(store.comment.findById("c1")).toEqual(comment);
  });
});
