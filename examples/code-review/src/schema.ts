import { type } from "arktype";

/**
 * The entities of the code-review demo.
 *
 * - `comment`: a note on one line of the file under review, open until someone resolves it.
 * - `review`: one reviewer's verdict on the whole file (one per reviewer: its id is
 *   `review:<author>`).
 */
export const Entity = type({
  id: "string",
  type: "'comment'",
  updatedAt: "number",
  data: {
    body: "string",
    lineNumber: "number.integer >= 1",
    author: "string",
    status: "'open' | 'resolved'",
    createdAt: "number",
    /** Who made the latest change (the author, or whoever edited or resolved it). */
    updatedBy: "string",
  },
}).or({
  id: "string",
  type: "'review'",
  updatedAt: "number",
  data: {
    author: "string",
    verdict: "'approve' | 'request-changes'",
  },
});

export type Entity = typeof Entity.infer;
export type Comment = Extract<Entity, { type: "comment" }>;
export type Review = Extract<Entity, { type: "review" }>;
export type CommentStatus = Comment["data"]["status"];
export type Verdict = Review["data"]["verdict"];
