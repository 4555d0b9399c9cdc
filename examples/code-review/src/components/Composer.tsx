import { useState } from "react";
import { refusalMessage } from "../comment-limits.js";

interface ComposerProps {
  initial?: string;
  placeholder: string;
  submitLabel: string;
  testId: string;
  onSubmit(body: string): void;
  onCancel(): void;
}

/**
 * A textarea with submit (Ctrl/Cmd+Enter) and cancel (Escape). A comment the write refuses
 * (too large to send) stays in the textarea, with the reason under it.
 */
export function Composer({
  initial = "",
  placeholder,
  submitLabel,
  testId,
  onSubmit,
  onCancel,
}: ComposerProps) {
  const [body, setBody] = useState(initial);
  const [refusal, setRefusal] = useState<string | null>(null);
  const trimmed = body.trim();
  const submit = () => {
    if (!trimmed) return;
    try {
      onSubmit(trimmed);
    } catch (error) {
      const message = refusalMessage(error);
      if (message === undefined) throw error;
      setRefusal(message);
    }
  };
  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <textarea
        data-testid={testId}
        value={body}
        placeholder={placeholder}
        rows={3}
        // biome-ignore lint/a11y/noAutofocus: the composer opens on an explicit click.
        autoFocus
        aria-invalid={refusal !== null}
        onChange={(event) => {
          setBody(event.target.value);
          setRefusal(null);
        }}
        onKeyDown={(event) => {
          if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) {
            event.preventDefault();
            submit();
          } else if (event.key === "Escape") {
            onCancel();
          }
        }}
      />
      {refusal && (
        <p className="composer-error" role="alert" data-testid="composer-error">
          {refusal}
        </p>
      )}
      <div className="composer-actions">
        <span className="hint">Ctrl+Enter to submit</span>
        <button type="button" className="button ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button primary" disabled={!trimmed}>
          {submitLabel}
        </button>
      </div>
    </form>
  );
}
