import { useState } from "react";
import { clearVerdict, reviewId, setVerdict } from "../actions.js";
import { plural } from "../format.js";
import { useLiveGroups, useLiveQuery, useValue } from "../hooks.js";
import type { Verdict } from "../schema.js";
import { useSession } from "../session-context.js";
import { Avatar } from "./Avatar.js";

const VERDICT_LABEL: Record<Verdict, string> = {
  approve: "Approved",
  "request-changes": "Changes requested",
};

function ReviewPanel() {
  const { store, user } = useSession();
  const mine = useValue(() => store.review.findById(reviewId(user))?.data.verdict, [store, user]);
  const reviews = useValue(() => store.review.orderBy((r) => r.data.author), [store]);
  const choose = (verdict: Verdict) =>
    mine === verdict ? clearVerdict(store, user) : setVerdict(store, user, verdict);

  return (
    <section className="panel" aria-labelledby="review-title">
      <h2 id="review-title">Your review</h2>
      <div className="verdict-buttons" data-testid="my-verdict" data-verdict={mine ?? "none"}>
        <button
          type="button"
          className={`button verdict approve${mine === "approve" ? " selected" : ""}`}
          aria-pressed={mine === "approve"}
          onClick={() => choose("approve")}
        >
          ✓ Approve
        </button>
        <button
          type="button"
          className={`button verdict request-changes${mine === "request-changes" ? " selected" : ""}`}
          aria-pressed={mine === "request-changes"}
          onClick={() => choose("request-changes")}
        >
          ✎ Request changes
        </button>
      </div>
      <h3>Reviewers</h3>
      {reviews.length === 0 ? (
        <p className="empty">No verdict yet.</p>
      ) : (
        <ul className="reviewers" data-testid="reviewers">
          {reviews.map((review) => (
            <li key={review.id} data-author={review.data.author} data-verdict={review.data.verdict}>
              <Avatar name={review.data.author} size={20} />
              <span className="reviewer-name">
                {review.data.author}
                {review.data.author === user && " (you)"}
              </span>
              <span className={`verdict-chip ${review.data.verdict}`}>
                {VERDICT_LABEL[review.data.verdict]}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function useStatusCounts(): { open: number; resolved: number } {
  const { views } = useSession();
  const groups = useLiveGroups(views.byStatus);
  return { open: groups.open?.length ?? 0, resolved: groups.resolved?.length ?? 0 };
}

function StatusCounts() {
  const counts = useStatusCounts();
  const total = counts.open + counts.resolved;
  return (
    <section className="panel" aria-labelledby="counts-title">
      <h2 id="counts-title">Comments</h2>
      <div className="counts">
        <div className="count open">
          <span className="count-value" data-testid="count-open">
            {counts.open}
          </span>
          <span className="count-label">open</span>
        </div>
        <div className="count resolved">
          <span className="count-value" data-testid="count-resolved">
            {counts.resolved}
          </span>
          <span className="count-label">resolved</span>
        </div>
      </div>
      <div className="progress" aria-hidden="true">
        <div
          className="progress-bar"
          style={{ width: total === 0 ? 0 : `${(100 * counts.resolved) / total}%` }}
        />
      </div>
    </section>
  );
}

/** How many open comments the list shows at first, and how many more each "Show more" adds. */
export const OPEN_PAGE = 100;

function OpenComments({ onSelectLine }: { onSelectLine(line: number): void }) {
  const { views } = useSession();
  const [limit, setLimit] = useState(OPEN_PAGE);
  // A live query: kept up to date incrementally as comments change, here or in another window.
  const open = useLiveQuery(() => views.openComments(limit), [views, limit]);
  const total = useStatusCounts().open;
  return (
    <section className="panel grow" aria-labelledby="open-title">
      <h2 id="open-title">Open comments</h2>
      {open.length === 0 ? (
        <p className="empty">Nothing open. Click a line number to comment.</p>
      ) : (
        <ul className="open-list" data-testid="open-list">
          {open.map((comment) => (
            <li key={comment.id}>
              <button type="button" onClick={() => onSelectLine(comment.data.lineNumber)}>
                <span className="open-line">L{comment.data.lineNumber}</span>
                <span className="open-text">
                  <span className="open-author">{comment.data.author}</span>
                  <span className="open-body">{comment.data.body}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {total > 0 && (
        <p className="panel-foot" data-testid="open-foot">
          {open.length < total
            ? `Showing ${open.length.toLocaleString("en-US")} of ${plural(total, "open thread")}`
            : `${plural(total, "thread")} to resolve`}
          {open.length < total && (
            <button
              type="button"
              className="button small ghost"
              onClick={() => setLimit((n) => n + OPEN_PAGE)}
            >
              Show {Math.min(OPEN_PAGE, total - open.length).toLocaleString("en-US")} more
            </button>
          )}
        </p>
      )}
    </section>
  );
}

export function Sidebar({ onSelectLine }: { onSelectLine(line: number): void }) {
  return (
    <aside className="sidebar">
      <ReviewPanel />
      <StatusCounts />
      <OpenComments onSelectLine={onSelectLine} />
    </aside>
  );
}
