import { memo, useCallback, useState } from "react";
import { addComment } from "../actions.js";
import { highlightLine } from "../highlight.js";
import { useLiveGroups } from "../hooks.js";
import { countRender } from "../render-count.js";
import type { Comment } from "../schema.js";
import { useSession } from "../session-context.js";
import { SOURCE_LINES, SOURCE_PATH } from "../source-file.js";
import { CommentCard } from "./CommentCard.js";
import { Composer } from "./Composer.js";

/** A thread longer than this shows its latest comments and a button for the earlier ones. */
export const THREAD_PREVIEW = 8;
const NO_COMMENTS: readonly Comment[] = Object.freeze([]);

const CodeLine = memo(function CodeLine({ text }: { text: string }) {
  return (
    <code className="code">
      {highlightLine(text).map((token, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: tokens of a fixed line never reorder.
        <span key={i} className={`tok-${token.kind}`}>
          {token.text}
        </span>
      ))}
      {text === "" && " "}
    </code>
  );
});

interface LineBlockProps {
  lineNumber: number;
  text: string;
  /** The line's comments, oldest first: the same array until one of them changes. */
  comments: readonly Comment[];
  focused: boolean;
  composing: boolean;
  onCompose(line: number | null): void;
}

/**
 * One line and its thread. Memoized: a write re-renders only the line whose comments changed
 * (its group's array is new), and each card re-renders only for its own comment.
 */
const LineBlock = memo(function LineBlock({
  lineNumber,
  text,
  comments,
  focused,
  composing,
  onCompose,
}: LineBlockProps) {
  countRender("LineBlock");
  const { store, user } = useSession();
  const [expanded, setExpanded] = useState(false);
  const hidden = expanded ? 0 : Math.max(0, comments.length - THREAD_PREVIEW);
  const shown = hidden > 0 ? comments.slice(hidden) : comments;
  const toggle = () => onCompose(composing ? null : lineNumber);
  return (
    <div
      id={`L${lineNumber}`}
      className={`line-block${focused ? " focused" : ""}`}
      data-line={lineNumber}
    >
      <div className={`line${comments.length > 0 ? " has-comments" : ""}`}>
        <button
          type="button"
          className="add-comment"
          data-testid={`add-comment-${lineNumber}`}
          aria-label={`Comment on line ${lineNumber}`}
          onClick={toggle}
        >
          +
        </button>
        <button
          type="button"
          className="line-number"
          data-testid={`line-number-${lineNumber}`}
          title={`Comment on line ${lineNumber}`}
          onClick={toggle}
        >
          {lineNumber}
        </button>
        <CodeLine text={text} />
      </div>
      {(comments.length > 0 || composing) && (
        <div className="thread" data-testid={`thread-${lineNumber}`} data-count={comments.length}>
          {hidden > 0 && (
            <button
              type="button"
              className="reply earlier"
              data-testid={`show-earlier-${lineNumber}`}
              onClick={() => setExpanded(true)}
            >
              Show {hidden.toLocaleString("en-US")} earlier comment{hidden === 1 ? "" : "s"}
            </button>
          )}
          {shown.map((comment) => (
            <CommentCard key={comment.id} id={comment.id} />
          ))}
          {composing ? (
            <Composer
              placeholder={`Comment on line ${lineNumber} as ${user}`}
              submitLabel="Comment"
              testId="composer-input"
              onCancel={() => onCompose(null)}
              onSubmit={(body) => {
                addComment(store, user, lineNumber, body);
                onCompose(null);
              }}
            />
          ) : (
            <button type="button" className="reply" onClick={() => onCompose(lineNumber)}>
              Add a comment on line {lineNumber}…
            </button>
          )}
        </div>
      )}
    </div>
  );
});

/** The file under review, line by line, with each line's comment thread under it. */
export function CodeView({ focusedLine }: { focusedLine: number | null }) {
  const { views } = useSession();
  const [composerLine, setComposerLine] = useState<number | null>(null);
  // One live grouping: a write touches the group of its line only (O(log n)), and the other
  // lines keep their arrays, so their memoized blocks do not re-render.
  const threads = useLiveGroups(views.threads);
  const compose = useCallback((line: number | null) => setComposerLine(line), []);

  return (
    <section className="file" aria-label={`File ${SOURCE_PATH}`}>
      <header className="file-header">
        <span className="file-icon" aria-hidden="true">
          TS
        </span>
        <span className="file-path">{SOURCE_PATH}</span>
        <span className="file-meta">{SOURCE_LINES.length} lines</span>
      </header>
      <div className="lines">
        {SOURCE_LINES.map((text, index) => {
          const lineNumber = index + 1;
          return (
            <LineBlock
              key={lineNumber}
              lineNumber={lineNumber}
              text={text}
              comments={threads[String(lineNumber)] ?? NO_COMMENTS}
              focused={focusedLine === lineNumber}
              composing={composerLine === lineNumber}
              onCompose={compose}
            />
          );
        })}
      </div>
    </section>
  );
}
