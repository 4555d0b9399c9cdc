/**
 * What a comment may weigh: the composer refuses, with a message, a comment that could never
 * be sent, before anything is stored (the sync server closes a connection that sends a message
 * over its limit, and the change would be resent, and refused, forever).
 *
 * One function, so that when the store itself refuses such an entity at `upsert` (with a typed
 * error, from the server's announced limits), the composer catches that error here instead.
 */
import { DEFAULT_LIMITS } from "kalphite/protocol";
import type { Comment } from "./schema.js";

/** Room for the change message around the entity: ids, vector clock, envelope. */
const ENVELOPE_BYTES = 16 * 1024;
export const MAX_COMMENT_BYTES = DEFAULT_LIMITS.maxMessageBytes - ENVELOPE_BYTES;

const encoder = new TextEncoder();

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${Math.ceil(bytes / 1024)} KB`;
}

/** Why `comment` cannot be sent, or null when it can. */
export function commentTooLarge(comment: Comment): string | null {
  const bytes = encoder.encode(JSON.stringify(comment)).length;
  if (bytes <= MAX_COMMENT_BYTES) return null;
  return `This comment is ${formatBytes(bytes)}; a comment can be at most ${formatBytes(MAX_COMMENT_BYTES)} to be sent to the others. Shorten it (put a long log in a file and link it) and submit again. Nothing was saved.`;
}

/** A comment the composer refuses, with the message it shows; nothing was stored. */
export class CommentRefusedError extends Error {
  override name = "CommentRefusedError";
}

/** Throws `CommentRefusedError` when `comment` cannot be sent; called before every upsert. */
export function refuseIfTooLarge(comment: Comment): void {
  const reason = commentTooLarge(comment);
  if (reason) throw new CommentRefusedError(reason);
}

/** The message to show for an error from a write, or undefined if it is not a refusal. */
export function refusalMessage(error: unknown): string | undefined {
  return error instanceof CommentRefusedError ? error.message : undefined;
}
