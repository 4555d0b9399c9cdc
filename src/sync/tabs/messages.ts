import type { ChangeInput } from "../../core/index.js";

/**
 * The messages between the tabs of one database, over a `BroadcastChannel`. Every tab hears
 * every message; `to` names the one a reply is for. A `BroadcastChannel` keeps no message for a
 * tab that is not listening yet, so nothing here relies on one arriving: a follower asks again
 * (`hello`) and resends its writes whenever a leader announces itself.
 */
export type TabMessage =
  /** A leader took over (or answers a `hello`): followers resend their unconfirmed writes to it. */
  | { kind: "leader"; leader: string }
  /** A follower starts or looks for the leader: asks for a snapshot. */
  | { kind: "hello"; tab: string }
  /**
   * What a tab about to lead shows every tab until its database is open (its cache, or the
   * server's copy on a first visit): a follower with no leader's snapshot yet shows it.
   */
  | { kind: "preview"; entities: unknown[]; done: boolean }
  /**
   * Every entity the leader holds, for the follower `to`, and the leader's published state; in
   * parts (each its own task in the follower), the last with `done`.
   */
  | {
      kind: "snapshot";
      leader: string;
      to: string;
      entities: unknown[];
      state: unknown;
      done: boolean;
    }
  /** Changes the leader's store made (from any tab, the server, or its database). */
  | { kind: "changes"; leader: string; changes: ChangeInput[] }
  /** A follower's local writes, for the leader to make its own. */
  | { kind: "write"; tab: string; writes: ForwardedWrite[] }
  /** The writes `ids` of follower `to` are durable in the leader's database. */
  | { kind: "ack"; leader: string; to: string; ids: string[] }
  /**
   * The leader could not apply write `id` of follower `to` (it failed validation there);
   * `current` is the leader's version of each entity of the write (a delete where it has none),
   * for the follower to show instead of its own.
   */
  | {
      kind: "refused";
      leader: string;
      to: string;
      id: string;
      reason: string;
      current: ChangeInput[];
    }
  /** The leader's published state changed (an app's status: connection, queue, errors). */
  | { kind: "state"; leader: string; state: unknown }
  /** A one-off event from the leader for every tab (an app's notice). */
  | { kind: "event"; leader: string; event: unknown };

/** Entities per snapshot or preview message: a part deserialized and applied in one task. */
export const SNAPSHOT_PART = 500;

/** `entities` in parts of `SNAPSHOT_PART` (one empty part when there is none). */
export function snapshotParts<T>(entities: readonly T[]): T[][] {
  const parts: T[][] = [];
  for (let start = 0; start === 0 || start < entities.length; start += SNAPSHOT_PART)
    parts.push(entities.slice(start, start + SNAPSHOT_PART));
  return parts;
}

/** One batch of a follower's local changes, kept by the follower until the leader confirms it. */
export interface ForwardedWrite {
  /** Unique per follower and write: `<tab>:<n>`. */
  id: string;
  changes: ForwardedChange[];
}

/** A follower's local change, with the version it was made on. */
export interface ForwardedChange extends ChangeInput {
  /**
   * The entity the follower showed before an upsert (absent when it had none): the leader
   * writes only the fields the follower changed, over its own version.
   */
  previous?: unknown;
}

/** What the tabs talk over: a `BroadcastChannel`, or anything with the same three methods. */
export interface TabChannel {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  close(): void;
}

/** The channel of the tabs of database `name`: one per origin and name. */
export function tabChannelName(name: string): string {
  return `kalphite-tabs:${name}`;
}

export function openTabChannel(name: string): TabChannel {
  return new BroadcastChannel(tabChannelName(name)) as unknown as TabChannel;
}

/** A random id for a tab or a leader (no secure context needed). */
export function randomTabId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

export function isTabMessage(data: unknown): data is TabMessage {
  return (
    typeof data === "object" &&
    data !== null &&
    typeof (data as { kind?: unknown }).kind === "string"
  );
}
