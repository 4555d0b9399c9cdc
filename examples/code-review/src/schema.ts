import * as v from "valibot";

/**
 * The entities of the code-review demo.
 *
 * - `comment`: a note on one line of the file under review, open until someone resolves it.
 * - `review`: one reviewer's verdict on the whole file (one per reviewer: its id is
 *   `review:<author>`).
 *
 * Valibot, because Kalphite takes any Standard Schema (Zod, Valibot, ArkType…) and a Valibot
 * schema is plain objects: building it costs nothing at the page's start (ArkType's start, which
 * compiles its validators, was the page's longest task, about 0.5 s).
 */
const Comment = v.object({
  id: v.string(),
  type: v.literal("comment"),
  updatedAt: v.number(),
  data: v.object({
    body: v.string(),
    /** The line commented on, from 1. */
    lineNumber: v.pipe(v.number(), v.integer(), v.minValue(1)),
    author: v.string(),
    status: v.picklist(["open", "resolved"]),
    createdAt: v.number(),
    /** Who made the latest change (the author, or whoever edited or resolved it). */
    updatedBy: v.string(),
  }),
});

const Review = v.object({
  id: v.string(),
  type: v.literal("review"),
  updatedAt: v.number(),
  data: v.object({
    author: v.string(),
    verdict: v.picklist(["approve", "request-changes"]),
  }),
});

export const Entity = v.variant("type", [Comment, Review]);

export type Entity = v.InferOutput<typeof Entity>;
export type Comment = v.InferOutput<typeof Comment>;
export type Review = v.InferOutput<typeof Review>;
export type CommentStatus = Comment["data"]["status"];
export type Verdict = Review["data"]["verdict"];
