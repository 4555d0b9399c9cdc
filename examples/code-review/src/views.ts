/**
 * The live queries the screens read, made once per session so that every component showing
 * them shares one incrementally maintained index: a write costs O(log n) per query, and a
 * component re-renders only when the rows it shows changed.
 */
import type { LiveGroups, LiveQuery } from "kalphite";
import type { ReviewStore } from "./kalphite.js";
import type { Comment, CommentStatus } from "./schema.js";

export interface ReviewViews {
  /** Each line's comments, oldest first. A line whose comments did not change keeps its array. */
  readonly threads: LiveGroups<Comment, string>;
  /** The comments by status: the counts, and the total behind the open list. */
  readonly byStatus: LiveGroups<Comment, CommentStatus>;
  /** The first `limit` open comments, by line. */
  openComments(limit: number): LiveQuery<Comment>;
}

export function createViews(store: ReviewStore): ReviewViews {
  const open = store.comment.live
    .where((c) => c.data.status === "open")
    .orderBy((c) => c.data.lineNumber);
  return {
    threads: store.comment.live.orderBy("data.createdAt").groupBy((c) => String(c.data.lineNumber)),
    byStatus: store.comment.live.groupBy((c) => c.data.status),
    openComments: (limit) => open.limit(limit),
  };
}
