import { plural } from "../format.js";
import type { ConnectionStatus } from "../kalphite.js";
import { useSignalValue } from "../kalphite.js";
import { useSession } from "../session-context.js";
import { SOURCE_PATH } from "../source-file.js";
import { Avatar } from "./Avatar.js";

const STATUS_LABEL: Record<ConnectionStatus, string> = {
  connected: "Live",
  connecting: "Reconnecting…",
  disconnected: "Offline",
};

export function TopBar() {
  const session = useSession();
  const connection = useSignalValue(session.connection);
  const outbox = useSignalValue(session.outbox);
  const saved = useSignalValue(session.savedLocally);

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
          className={`sync-pill ${connection}`}
          data-testid="connection"
          data-status={connection}
          title="Connection to the sync server"
        >
          <span className="dot" aria-hidden="true" />
          {STATUS_LABEL[connection]}
        </span>
        <span
          className={`outbox${outbox > 0 ? " pending" : ""}`}
          data-testid="outbox"
          data-count={outbox}
          title="Changes made here that the server has not confirmed yet"
        >
          {outbox === 0 ? "All changes synced" : `${plural(outbox, "change")} to send`}
        </span>
        {session.storedOnDevice ? (
          <span
            className={`local-save${saved ? " saved" : ""}`}
            data-testid="local-save"
            data-saved={saved}
            title="Every change is written to this browser's database (PGlite)"
          >
            {saved ? "Saved on this device" : "Saving…"}
          </span>
        ) : (
          <span
            className="local-save memory-only"
            data-testid="local-save"
            data-saved={false}
            title="Another tab has this room's database open; this tab keeps its changes in memory"
          >
            In memory only
          </span>
        )}
        <span className="me">
          <Avatar name={session.user} size={26} />
          <span className="me-name" data-testid="user-name">
            {session.user}
          </span>
        </span>
      </div>
    </header>
  );
}

export function OfflineBanner() {
  const session = useSession();
  const connection = useSignalValue(session.connection);
  const outbox = useSignalValue(session.outbox);
  if (connection === "connected") return null;
  const sent = outbox > 0 ? `${plural(outbox, "change")} will be sent` : "changes will be sent";
  return (
    <div className={`banner ${connection}`} role="status" data-testid="offline-banner">
      <strong>
        {connection === "connecting" ? "Reconnecting to the sync server." : "You are offline."}
      </strong>{" "}
      {session.storedOnDevice
        ? `Keep reviewing: every change is saved in this browser and ${sent} as soon as the connection is back.`
        : `Changes made here wait in this tab's memory: ${sent} when the connection is back, unless this tab is closed first.`}
    </div>
  );
}

/**
 * Shown when another tab has this room open as the same user: that tab owns the browser's
 * database for it (one PGlite per IndexedDB database, or they overwrite each other's writes),
 * and this one works in memory, still synced live.
 */
export function TabNotice() {
  const session = useSession();
  if (session.storedOnDevice) return null;
  return (
    <div className="banner memory-only" role="status" data-testid="tab-notice">
      <strong>
        This room is open in another tab as {session.user}; this tab does not keep offline changes.
      </strong>{" "}
      It shows and sends everything live, but saves nothing on this device: the other tab does. To
      save here, close the other tab and reload this one.
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
