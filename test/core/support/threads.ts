import { type } from "arktype";
import { commentData } from "../../fixtures/schema.js";

/** Comments that belong to reviews (`data.reviewId`), for joins and per-author aggregates. */
export const ThreadEntity = type({
  id: "string",
  type: "'comment'",
  updatedAt: "number",
  data: { ...commentData, author: "string", "reviewId?": "string" },
}).or({
  id: "string",
  type: "'review'",
  updatedAt: "number",
  data: { title: "string", state: "'open'|'approved'" },
});

export type ThreadEntity = typeof ThreadEntity.infer;
export type ThreadComment = Extract<ThreadEntity, { type: "comment" }>;
export type ThreadReview = Extract<ThreadEntity, { type: "review" }>;

export function threadComment(
  id: string,
  data: Partial<ThreadComment["data"]> = {},
  updatedAt = 1,
): ThreadComment {
  return {
    id,
    type: "comment",
    updatedAt,
    data: { body: `body of ${id}`, lineNumber: 1, status: "open", author: "ann", ...data },
  };
}

export function threadReview(
  id: string,
  data: Partial<ThreadReview["data"]> = {},
  updatedAt = 1,
): ThreadReview {
  return { id, type: "review", updatedAt, data: { title: `review ${id}`, state: "open", ...data } };
}
