/**
 * What the demo's leader worker (leader.worker.ts) and its pages tell each other, beside the
 * store itself (which `serveTabs`/`mirrorTabs` carry).
 */
import type { ConnectionStatus } from "kalphite/sync";

/** The leader's status, published to every tab (`TabLeader.publish`). */
export interface LeaderState {
  /** The mirror id of the tab whose worker leads. */
  leaderTab: string;
  connection: ConnectionStatus;
  /** Changes the server has not acknowledged yet. */
  outbox: number;
  /** Why changes are not getting through although the connection is up (a refusal, a stall). */
  syncProblem: string | null;
  /** Why changes are not being saved in this browser's database (a failing flush). */
  saveProblem: string | null;
}

/** A concurrent edit the server resolved, announced to every tab (`TabLeader.notify`). */
export interface ConflictEvent {
  kind: "conflict";
  entityId: string;
  /** Whether this user's edit is the one every window now shows. */
  won: boolean;
  /** What this user had written. */
  mine: string;
  /** What every window now shows. */
  kept: string;
  /** Who wrote what every window now shows. */
  keptBy: string;
  /** Who made the other edit. */
  other: string;
}

/** From a page to its own worker. */
export type WorkerCommand =
  | { type: "start"; room: string; user: string; dbName: string; tab: string; online: boolean }
  | { type: "online"; online: boolean }
  | { type: "close" };

/** From a worker to its page. */
export type WorkerReport =
  | { type: "leading" }
  | { type: "failed"; message: string }
  | { type: "closed" };
