import { memo, useState } from "react";
import { deleteComment, setStatus, updateComment } from "../actions.js";
import { formatFullTime, formatTime } from "../format.js";
import { useEntity } from "../hooks.js";
import { countRender } from "../render-count.js";
import type { Comment } from "../schema.js";
import { useSession } from "../session-context.js";
import { Avatar } from "./Avatar.js";
import { Composer } from "./Composer.js";

/**
 * One comment. Memoized by id and reading its own entity (`useEntity`), so a write to this
 * comment re-renders this card only, and a write to another comment re-renders none.
 */
export const CommentCard = memo(function CommentCard({ id }: { id: string }) {
  countRender("CommentCard");
  const { store, user } = useSession();
  const comment: Comment | undefined = useEntity(store.comment, id);
  const [editing, setEditing] = useState(false);
  if (!comment) return null;
  const { body, author, status, createdAt, updatedBy } = comment.data;
  const by = updatedBy === user ? "you" : updatedBy;
  const note =
    status === "resolved"
      ? `resolved by ${by}`
      : comment.updatedAt !== createdAt
        ? `edited by ${by}`
        : "";

  return (
    <article
      className={`comment ${status}`}
      data-testid="comment"
      data-comment-id={comment.id}
      data-status={status}
      data-updated-at={comment.updatedAt}
    >
      <header className="comment-header">
        <Avatar name={author} />
        <span className="comment-author">{author}</span>
        <span className="comment-time" title={formatFullTime(createdAt)}>
          {formatTime(createdAt)}
        </span>
        {note && (
          <span className="comment-edited" title={formatFullTime(comment.updatedAt)}>
            · {note}
          </span>
        )}
        <span className={`status-badge ${status}`} data-testid="comment-status">
          {status === "open" ? "Open" : "Resolved"}
        </span>
      </header>
      {editing ? (
        <Composer
          initial={body}
          placeholder="Edit the comment"
          submitLabel="Save"
          testId="edit-input"
          onCancel={() => setEditing(false)}
          onSubmit={(next) => {
            updateComment(store, user, id, { body: next });
            setEditing(false);
          }}
        />
      ) : (
        <p className="comment-body" data-testid="comment-body">
          {body}
        </p>
      )}
      {!editing && (
        <footer className="comment-actions">
          {status === "open" ? (
            <button
              type="button"
              className="button small"
              onClick={() => setStatus(store, user, id, "resolved")}
            >
              Resolve
            </button>
          ) : (
            <button
              type="button"
              className="button small"
              onClick={() => setStatus(store, user, id, "open")}
            >
              Reopen
            </button>
          )}
          <button type="button" className="button small ghost" onClick={() => setEditing(true)}>
            Edit
          </button>
          <button
            type="button"
            className="button small ghost danger"
            onClick={() => deleteComment(store, id)}
          >
            Delete
          </button>
        </footer>
      )}
    </article>
  );
});
