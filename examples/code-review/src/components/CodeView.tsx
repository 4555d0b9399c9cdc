import { memo, useState } from "react";
import { addComment } from "../actions.js";
import { highlightLine } from "../highlight.js";
import { useValue } from "../kalphite.js";
import type { Comment } from "../schema.js";
import { useSession } from "../session-context.js";
import { SOURCE_LINES, SOURCE_PATH } from "../source-file.js";
import { CommentCard } from "./CommentCard.js";
import { Composer } from "./Composer.js";

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

/** The file under review, line by line, with each line's comment thread under it. */
export function CodeView({ focusedLine }: { focusedLine: number | null }) {
  const { store, user } = useSession();
  const [composerLine, setComposerLine] = useState<number | null>(null);
  // Comment ids per line, oldest first. Reading the collection subscribes to it as a whole.
  const threads = useValue(() => {
    const byLine = store.comment.groupBy((c) => c.data.lineNumber) as Partial<
      Record<number, Comment[]>
    >;
    const ids = new Map<number, string[]>();
    for (const [line, comments] of Object.entries(byLine)) {
      const sorted = [...(comments ?? [])].sort((a, b) => a.data.createdAt - b.data.createdAt);
      ids.set(
        Number(line),
        sorted.map((c) => c.id),
      );
    }
    return ids;
  }, [store]);

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
          const ids = threads.get(lineNumber) ?? [];
          const composing = composerLine === lineNumber;
          return (
            <div
              key={lineNumber}
              id={`L${lineNumber}`}
              className={`line-block${focusedLine === lineNumber ? " focused" : ""}`}
              data-line={lineNumber}
            >
              <div className={`line${ids.length > 0 ? " has-comments" : ""}`}>
                <button
                  type="button"
                  className="add-comment"
                  data-testid={`add-comment-${lineNumber}`}
                  aria-label={`Comment on line ${lineNumber}`}
                  onClick={() => setComposerLine(composing ? null : lineNumber)}
                >
                  +
                </button>
                <span className="line-number">{lineNumber}</span>
                <CodeLine text={text} />
              </div>
              {(ids.length > 0 || composing) && (
                <div className="thread">
                  {ids.map((id) => (
                    <CommentCard key={id} id={id} />
                  ))}
                  {composing ? (
                    <Composer
                      placeholder={`Comment on line ${lineNumber} as ${user}`}
                      submitLabel="Comment"
                      testId="composer-input"
                      onCancel={() => setComposerLine(null)}
                      onSubmit={(body) => {
                        addComment(store, user, lineNumber, body);
                        setComposerLine(null);
                      }}
                    />
                  ) : (
                    <button
                      type="button"
                      className="reply"
                      onClick={() => setComposerLine(lineNumber)}
                    >
                      Add a comment on line {lineNumber}…
                    </button>
                  )}
                </div>
              )}
            </div>
          );
        })}
      </div>
    </section>
  );
}
