/**
 * The writes of the demo: plain synchronous store calls; persistence and sync follow on their own.
 * A comment too large to send throws `CommentRefusedError` and stores nothing.
 */
import { refuseIfTooLarge } from "./comment-limits.js";
import type { ReviewStore } from "./kalphite.js";
import type { Comment, CommentStatus, Verdict } from "./schema.js";

/** A short unique id; `crypto.randomUUID` needs a secure context, `getRandomValues` does not. */
export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return `${prefix}-${Date.now().toString(36)}-${hex}`;
}

export function addComment(
  store: ReviewStore,
  author: string,
  lineNumber: number,
  body: string,
): Comment {
  const now = Date.now();
  const id = newId("c");
  const comment: Comment = {
    id,
    type: "comment",
    updatedAt: now,
    data: { body, lineNumber, author, status: "open", createdAt: now, updatedBy: author },
  };
  refuseIfTooLarge(comment);
  return store.comment.upsert(id, comment);
}

export function updateComment(
  store: ReviewStore,
  user: string,
  id: string,
  patch: Partial<Pick<Comment["data"], "body" | "status">>,
): void {
  const current = store.comment.findById(id);
  if (!current) return;
  const next: Comment = {
    ...current,
    // Strictly increasing, so a quick edit never ties with the write it follows.
    updatedAt: Math.max(Date.now(), current.updatedAt + 1),
    data: { ...current.data, ...patch, updatedBy: user },
  };
  refuseIfTooLarge(next);
  store.comment.upsert(id, next);
}

export function setStatus(
  store: ReviewStore,
  user: string,
  id: string,
  status: CommentStatus,
): void {
  updateComment(store, user, id, { status });
}

export function deleteComment(store: ReviewStore, id: string): void {
  store.comment.delete(id);
}

export function reviewId(author: string): string {
  return `review:${author}`;
}

export function setVerdict(store: ReviewStore, author: string, verdict: Verdict): void {
  const id = reviewId(author);
  const current = store.review.findById(id);
  store.review.upsert(id, {
    id,
    type: "review",
    updatedAt: Math.max(Date.now(), (current?.updatedAt ?? 0) + 1),
    data: { author, verdict },
  });
}

export function clearVerdict(store: ReviewStore, author: string): void {
  store.review.delete(reviewId(author));
}
