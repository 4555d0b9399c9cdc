import { startTransition, useEffect, useState } from "react";
import { CodeView } from "./components/CodeView.js";
import { Sidebar } from "./components/Sidebar.js";
import { ConflictToasts, OfflineBanner, ProblemBanner, TopBar } from "./components/TopBar.js";
import type { Session } from "./kalphite.js";
import { SessionContext } from "./session-context.js";

export interface Identity {
  room: string;
  user: string;
}

const LAST_NAME_KEY = "kalphite-review-user";

/**
 * The store, its schema and the tabs' wiring are a chunk of their own: the page's first script
 * (React, the screens) paints the loading screen while it loads and runs in tasks of its own.
 */
const loadSessionModule = () => import("./kalphite.js");
// Fetched at once when the address names the user (a reload), in parallel with the first paint.
if (new URLSearchParams(location.search).get("user")?.trim()) void loadSessionModule();

/**
 * Room and user from the URL (`?room=demo&user=ada`). The user is the URL's only: two windows
 * of one browser are two people when their URLs say so; the last name used only fills the join
 * screen's field.
 */
export function identityFromUrl(): { room: string; user?: string } {
  const params = new URLSearchParams(location.search);
  const room = params.get("room")?.trim() || "demo";
  const user = params.get("user")?.trim() || undefined;
  return user ? { room, user } : { room };
}

function setUserInUrl(room: string, user: string | undefined): void {
  const url = new URL(location.href);
  url.searchParams.set("room", room);
  if (user) url.searchParams.set("user", user);
  else url.searchParams.delete("user");
  history.replaceState(null, "", url);
}

function JoinScreen({ room, onJoin }: { room: string; onJoin(user: string): void }) {
  const [name, setName] = useState(() => localStorage.getItem(LAST_NAME_KEY) ?? "");
  return (
    <main className="join">
      <form
        className="join-card"
        onSubmit={(event) => {
          event.preventDefault();
          if (name.trim()) onJoin(name.trim());
        }}
      >
        <div className="brand big">
          <span className="logo">◆</span> Kalphite Review
        </div>
        <p>
          You are joining the review room <strong>#{room}</strong>. Everyone with this link sees the
          same comments, live.
        </p>
        <label htmlFor="name">Your name</label>
        <span className="join-hint">
          Another window of this browser can join as someone else: each window's address says who it
          is (<code>?user=</code>).
        </span>
        <input
          id="name"
          value={name}
          // biome-ignore lint/a11y/noAutofocus: the only field of the page.
          autoFocus
          placeholder="e.g. Ada"
          onChange={(event) => setName(event.target.value)}
        />
        <button type="submit" className="button primary" disabled={!name.trim()}>
          Join review
        </button>
      </form>
    </main>
  );
}

function ReviewScreen({ session, onSwitchUser }: { session: Session; onSwitchUser(): void }) {
  const [focusedLine, setFocusedLine] = useState<number | null>(null);
  const selectLine = (line: number) => {
    setFocusedLine(line);
    document.getElementById(`L${line}`)?.scrollIntoView({ behavior: "smooth", block: "center" });
  };
  return (
    <SessionContext.Provider value={session}>
      <div className="app" data-testid="app-ready">
        <TopBar onSwitchUser={onSwitchUser} />
        <ProblemBanner />
        <OfflineBanner />
        <main className="workspace">
          <CodeView focusedLine={focusedLine} />
          <Sidebar onSelectLine={selectLine} />
        </main>
        <ConflictToasts />
      </div>
    </SessionContext.Provider>
  );
}

export function App() {
  const [identity, setIdentity] = useState(identityFromUrl);
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<unknown>(null);
  const { room, user } = identity;

  useEffect(() => {
    if (!user) return;
    let closed = false;
    let opened: Session | null = null;
    loadSessionModule()
      .then(({ openSession }) => openSession({ room, user }))
      .then(
        (s) => {
          opened = s;
          if (closed) void s.close();
          // A transition: React renders the review in slices, yielding to the page between them.
          else startTransition(() => setSession(s));
        },
        (reason: unknown) => {
          if (!closed) setError(reason);
        },
      );
    return () => {
      closed = true;
      if (opened) void opened.close();
    };
  }, [room, user]);

  if (!user) {
    return (
      <JoinScreen
        room={room}
        onJoin={(name) => {
          localStorage.setItem(LAST_NAME_KEY, name);
          setUserInUrl(room, name);
          setIdentity({ room, user: name });
        }}
      />
    );
  }
  if (error) {
    return (
      <main className="loading error" role="alert">
        <h1>Could not open the review</h1>
        <pre>{error instanceof Error ? error.message : String(error)}</pre>
      </main>
    );
  }
  if (!session) {
    return (
      <main className="loading" role="status">
        <div className="spinner" aria-hidden="true" />
        <div>
          <div className="loading-title">Opening #{room} from this browser's database…</div>
          <div className="loading-note">
            The first visit creates a PostgreSQL database in this browser (PGlite, in a worker);
            later visits open from it at once, even offline.
          </div>
        </div>
      </main>
    );
  }
  return (
    <ReviewScreen
      session={session}
      onSwitchUser={() => {
        setUserInUrl(room, undefined);
        setSession(null);
        setIdentity({ room });
      }}
    />
  );
}
