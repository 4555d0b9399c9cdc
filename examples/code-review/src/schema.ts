import type { StandardSchemaV1 } from "@standard-schema/spec";

/**
 * The entities of the code-review demo.
 *
 * - `comment`: a note on one line of the file under review, open until someone resolves it.
 * - `review`: one reviewer's verdict on the whole file (one per reviewer: its id is
 *   `review:<author>`).
 *
 * The schema is a Standard Schema written by hand (Kalphite takes any: Zod, Valibot, ArkType…):
 * a schema library's own start (building its validators) would be the largest task of the
 * page's start, and these two shapes need a few lines only.
 */
export interface Comment {
  id: string;
  type: "comment";
  updatedAt: number;
  data: {
    body: string;
    /** The line commented on, from 1. */
    lineNumber: number;
    author: string;
    status: "open" | "resolved";
    createdAt: number;
    /** Who made the latest change (the author, or whoever edited or resolved it). */
    updatedBy: string;
  };
}

export interface Review {
  id: string;
  type: "review";
  updatedAt: number;
  data: {
    author: string;
    verdict: "approve" | "request-changes";
  };
}

export type Entity = Comment | Review;
export type CommentStatus = Comment["data"]["status"];
export type Verdict = Review["data"]["verdict"];

/** A field's check: what is wrong with `value`, or undefined when it is fine. */
type Check = (value: unknown) => string | undefined;

const isString: Check = (value) => (typeof value === "string" ? undefined : "must be a string");
const isNumber: Check = (value) =>
  typeof value === "number" && !Number.isNaN(value) ? undefined : "must be a number";
const isLineNumber: Check = (value) =>
  Number.isInteger(value) && (value as number) >= 1 ? undefined : "must be an integer >= 1";
const oneOf =
  (...options: string[]): Check =>
  (value) =>
    options.includes(value as string)
      ? undefined
      : `must be ${options.map((option) => JSON.stringify(option)).join(" or ")}`;

/** Each type's fields: its top-level ones, then those of `data`. */
const SHAPES: Record<Entity["type"], { data: Record<string, Check> }> = {
  comment: {
    data: {
      body: isString,
      lineNumber: isLineNumber,
      author: isString,
      status: oneOf("open", "resolved"),
      createdAt: isNumber,
      updatedBy: isString,
    },
  },
  review: {
    data: { author: isString, verdict: oneOf("approve", "request-changes") },
  },
};
const TOP: Record<string, Check> = { id: isString, updatedAt: isNumber };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function issuesOf(value: unknown): StandardSchemaV1.Issue[] {
  if (!isObject(value)) return [{ message: "must be an object" }];
  const shape = SHAPES[value.type as Entity["type"]];
  if (shape === undefined) return [{ message: 'must be "comment" or "review"', path: ["type"] }];
  const issues: StandardSchemaV1.Issue[] = [];
  const checkAll = (
    object: Record<string, unknown>,
    checks: Record<string, Check>,
    at: string[],
  ) => {
    for (const [key, check] of Object.entries(checks)) {
      const message = check(object[key]);
      if (message !== undefined) issues.push({ message, path: [...at, key] });
    }
  };
  checkAll(value, TOP, []);
  if (isObject(value.data)) checkAll(value.data, shape.data, ["data"]);
  else issues.push({ message: "must be an object", path: ["data"] });
  return issues;
}

export const Entity: StandardSchemaV1<unknown, Entity> = {
  "~standard": {
    version: 1,
    vendor: "kalphite-review",
    validate(value) {
      const issues = issuesOf(value);
      return issues.length > 0 ? { issues } : { value: value as Entity };
    },
  },
};
