import { useState } from "react";

interface ComposerProps {
  initial?: string;
  placeholder: string;
  submitLabel: string;
  testId: string;
  onSubmit(body: string): void;
  onCancel(): void;
}

/** A textarea with submit (Ctrl/Cmd+Enter) and cancel (Escape). */
export function Composer({
  initial = "",
  placeholder,
  submitLabel,
  testId,
  onSubmit,
  onCancel,
}: ComposerProps) {
  const [body, setBody] = useState(initial);
  const trimmed = body.trim();
  const submit = () => {
    if (trimmed) onSubmit(trimmed);
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
        onChange={(event) => setBody(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) {
            event.preventDefault();
            submit();
          } else if (event.key === "Escape") {
            onCancel();
          }
        }}
      />
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
