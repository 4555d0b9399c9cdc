import { plural } from "../format.js";
import { useSignalValue } from "../hooks.js";
import type { ConnectionStatus } from "../kalphite.js";
import { useSession } from "../session-context.js";
import { SOURCE_PATH } from "../source-file.js";
import { Avatar } from "./Avatar.js";

const STATUS_LABEL: Record<ConnectionStatus, string> = {
  connected: "Live",
  connecting: "Reconnecting…",
  disconnected: "Offline",
};

export function TopBar({ onSwitchUser }: { onSwitchUser(): void }) {
  const session = useSession();
  const connection = useSignalValue(session.connection);
  const outbox = useSignalValue(session.outbox);
  const saved = useSignalValue(session.savedLocally);
  const syncProblem = useSignalValue(session.syncProblem);
  const saveProblem = useSignalValue(session.saveProblem);
  const leading = useSignalValue(session.leading);
  const opened = useSignalValue(session.opened);
  // Never "Live" while changes do not get through: the pill says so instead.
  const stuck = connection === "connected" && syncProblem !== null;

  return (
    <header className="topbar">
      <div className="brand">
        <span className="logo" aria-hidden="true">
          ◆
        </span>
        <span className="brand-name">Kalphite Review</span>
      </div>
      <nav className="crumbs" aria-label="Location">
        <span className="room" title="Room: everyone with this link sees the same review">
          #{session.room}
        </span>
        <span className="sep">/</span>
        <span className="crumb-file">{SOURCE_PATH}</span>
      </nav>
      <div className="topbar-right">
        <span
          className={`sync-pill ${stuck ? "stuck" : connection}`}
          data-testid="connection"
          data-status={connection}
          data-stuck={stuck}
          title={stuck ? syncProblem : "Connection to the sync server"}
        >
          <span className="dot" aria-hidden="true" />
          {stuck ? "Not syncing" : STATUS_LABEL[connection]}
        </span>
        <span
          className={`outbox${outbox > 0 ? " pending" : ""}`}
          data-testid="outbox"
          data-count={outbox}
          title="Changes made here that the server has not confirmed yet"
        >
          {outbox === 0 ? "All changes synced" : `${plural(outbox, "change")} to send`}
        </span>
        <span
          className={`local-save${saveProblem ? " failed" : saved ? " saved" : ""}`}
          data-testid="local-save"
          data-saved={saved}
          data-leading={leading}
          data-opened={opened}
          title={
            saveProblem ??
            (!opened
              ? "This browser's copy of the room is shown while its database (PGlite) opens; changes are saved once it is open"
              : leading
                ? "Every change is written to this browser's database (PGlite); this tab holds it"
                : "Every change is written to this browser's database (PGlite) through another tab of this room")
          }
        >
          {saveProblem
            ? "Not saved on this device"
            : saved
              ? "Saved on this device"
              : opened
                ? "Saving…"
                : "Opening…"}
        </span>
        <button
          type="button"
          className="me"
          data-testid="switch-user"
          title="Review as someone else"
          onClick={onSwitchUser}
        >
          <Avatar name={session.user} size={26} />
          <span className="me-name" data-testid="user-name">
            {session.user}
          </span>
        </button>
      </div>
    </header>
  );
}

export function OfflineBanner() {
  const session = useSession();
  const connection = useSignalValue(session.connection);
  const outbox = useSignalValue(session.outbox);
  const opened = useSignalValue(session.opened);
  // Before the leader is up its connection is unknown, not lost.
  if (connection === "connected" || !opened) return null;
  const sent = outbox > 0 ? `${plural(outbox, "change")} will be sent` : "changes will be sent";
  return (
    <div className={`banner ${connection}`} role="status" data-testid="offline-banner">
      <strong>
        {connection === "connecting" ? "Reconnecting to the sync server." : "You are offline."}
      </strong>{" "}
      Keep reviewing: every change is saved in this browser and {sent} as soon as the connection is
      back.
    </div>
  );
}

/** Changes that do not get through, or are not saved: said plainly, never hidden behind "Live". */
export function ProblemBanner() {
  const session = useSession();
  const connection = useSignalValue(session.connection);
  const syncProblem = useSignalValue(session.syncProblem);
  const saveProblem = useSignalValue(session.saveProblem);
  const problems = [
    saveProblem,
    connection === "connected" && syncProblem
      ? `Changes are not getting through to the server: ${syncProblem}`
      : null,
  ].filter((problem): problem is string => problem !== null);
  if (problems.length === 0) return null;
  return (
    <div className="banner problem" role="alert" data-testid="problem-banner">
      {problems.map((problem) => (
        <div key={problem}>
          <strong>{problem}</strong>
        </div>
      ))}
    </div>
  );
}

export function ConflictToasts() {
  const session = useSession();
  const conflicts = useSignalValue(session.conflicts);
  if (conflicts.length === 0) return null;
  return (
    <div className="toasts" aria-live="polite">
      {conflicts.map((notice) => (
        <div
          key={notice.key}
          className={`toast conflict${notice.won ? " won" : ""}`}
          data-testid="conflict-notice"
          data-won={notice.won}
          role="alert"
        >
          <div className="toast-title">
            {notice.won ? "Your edit was kept" : "Your edit was replaced"}
          </div>
          {notice.won ? (
            <p>
              <strong>{notice.other}</strong> changed this comment at the same time. Yours is the
              later edit, so every window shows it (last write wins).
            </p>
          ) : (
            <p>
              <strong>{notice.keptBy}</strong> changed this comment while you were apart. Theirs is
              the later edit, so every window shows it (last write wins):
            </p>
          )}
          <blockquote className="kept">{notice.kept}</blockquote>
          {!notice.won && (
            <p className="lost">
              Your version: <span>{notice.mine}</span>
            </p>
          )}
          <button
            type="button"
            className="button small"
            onClick={() => session.dismissConflict(notice.key)}
          >
            Got it
          </button>
        </div>
      ))}
    </div>
  );
}
